// PickleOpcode — the pickle opcodes RestrictedUnpickler executes, and the names of the rest (so a
// refusal names what the file asked for). The executed set is what torch.save writes with protocol
// 2 plus its protocol-4 equivalents (FRAME, MEMOIZE, STACK_GLOBAL, short strings); nothing that
// builds arbitrary objects (INST, OBJ, NEWOBJ, EXT*), text-protocol opcodes or buffers.

/// Every case is executed; a byte that is not a case is refused.
enum PickleOpcode: UInt8 {
    case proto = 0x80, frame = 0x95, stop = 0x2E /* . */, mark = 0x28 /* ( */
    case pop = 0x30 /* 0 */, popMark = 0x31 /* 1 */, dup = 0x32 /* 2 */
    case none = 0x4E /* N */, newTrue = 0x88, newFalse = 0x89
    case binInt = 0x4A /* J */, binInt1 = 0x4B /* K */, binInt2 = 0x4D /* M */, long1 = 0x8A, long4 = 0x8B
    case binFloat = 0x47 /* G */
    case binUnicode = 0x58 /* X */, shortBinUnicode = 0x8C, binUnicode8 = 0x8D
    case binString = 0x54 /* T */, shortBinString = 0x55 /* U */
    case binBytes = 0x42 /* B */, shortBinBytes = 0x43 /* C */, binBytes8 = 0x8E
    case emptyTuple = 0x29 /* ) */, tuple = 0x74 /* t */, tuple1 = 0x85, tuple2 = 0x86, tuple3 = 0x87
    case emptyList = 0x5D /* ] */, list = 0x6C /* l */, append = 0x61 /* a */, appends = 0x65 /* e */
    case emptyDict = 0x7D /* } */, dict = 0x64 /* d */, setItem = 0x73 /* s */, setItems = 0x75 /* u */
    case binPut = 0x71 /* q */, longBinPut = 0x72 /* r */, memoize = 0x94
    case binGet = 0x68 /* h */, longBinGet = 0x6A /* j */
    case global = 0x63 /* c */, stackGlobal = 0x93, reduce = 0x52 /* R */, build = 0x62 /* b */
    case binPersId = 0x51 /* Q */

    /// Python's names of the opcodes that are refused (pickletools spelling).
    static let refusedNames: [UInt8: String] = [
        0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x50: "PERSID", 0x49: "INT", 0x4C: "LONG", 0x53: "STRING", 0x56: "UNICODE", 0x46: "FLOAT",
        0x67: "GET", 0x70: "PUT", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    /// "0x69 (INST)" or "0xff (not a pickle opcode)".
    static func describe(_ code: UInt8) -> String {
        let hex = "0x" + String(code, radix: 16, uppercase: false).leftPadded(to: 2)
        return "\(hex) (\(refusedNames[code] ?? "not a pickle opcode"))"
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
