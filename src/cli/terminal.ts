/**
 * Text from merchants, shoppers and PSPs (references, reasons, a receiver's answer) printed to an
 * operator's terminal: control characters would let it forge rows (a line break) or drive the
 * terminal (escape sequences), so each is shown as `\xNN`. Tabs stay.
 */
export const terminalSafe = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** One line of human-readable output, made safe for the terminal. */
export const writeLine = (text: string): void => { process.stdout.write(`${terminalSafe(text)}\n`); };
/** The same on stderr, for refusals whose text may carry another party's (a PSP report's account, a reference). */
export const writeErrorLine = (text: string): void => { process.stderr.write(`${terminalSafe(text)}\n`); };
