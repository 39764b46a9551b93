/**
 * Whether text holds a control character (C0, DEL, C1). No reference, id, name or description a
 * person or a PSP sends holds one, they corrupt logs, exports and pages, and PostgreSQL's text
 * refuses a NUL: the edges refuse such values by name.
 */
export const hasControlCharacter = (text: string): boolean => /\p{Cc}/u.test(text);
