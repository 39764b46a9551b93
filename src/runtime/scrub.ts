/**
 * Backstop against card data in free text: any run of 13–19 digits (optionally split by spaces or
 * dashes) that passes the Luhn check is replaced. Structured fields are redacted by name first;
 * this catches what slips into messages, URLs and error strings.
 */
const candidate = /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

export function scrubPans(text: string): string {
  return text.replace(candidate, (m) => {
    const digits = m.replace(/[ -]/g, '');
    return luhnValid(digits) ? '[PAN REDACTED]' : m;
  });
}
