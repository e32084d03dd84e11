// Public surface of @palisade/binary: the bounds-checked reader and the error decoders throw.

export type { BinaryErrorCode } from './byte-reader.ts';
export { ByteReader, filetimePartsToIso, filetimeToIso } from './byte-reader.ts';
export type { ParseErrorDetails } from './parse-error.ts';
export { formatOffset, hexPreview, ParseError } from './parse-error.ts';
