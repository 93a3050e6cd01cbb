// RestrictedUnpickler — reads one Python pickle (protocols 2–5, the opcodes torch.save emits and a
// few equivalents) into PickleValues without executing anything. It knows a closed set of opcodes
// (the cases of PickleOpcode) and a closed set of globals (PickleGlobal.allowed); any other opcode or
// global is refused with `CheckpointError.unsafePickle` naming it, when it is read, before any later
// byte is looked at. Each bound below is checked before the allocation it guards, so a hostile file
// gets a typed `badPickle` error, never a crash, a hang or an unbounded allocation: every opcode
// consumes at least one byte and does work proportional to what it consumes or pops.
// (A global that is allowed is only a name here, too: TorchAllowList says what calling it builds.)

/// One pass over one pickle.
struct RestrictedUnpickler {
    /// Bounds (a GPT-2 state dict needs a few thousand memo entries and items, tuples 3 deep).
    enum Limits {
        static let depth = 32           // tuple nesting
        static let marks = 64           // open MARKs
        static let stack = 1 << 20      // values on the stack
        static let memo = 1 << 20       // memo entries
        static let items = 1 << 22      // items in all lists and dicts together
        static let containers = 1 << 20 // lists and dicts
        static let longBytes = 16       // LONG1/LONG4 payload
        static let stringBytes = 1 << 20 // one str / bytes value
    }

    /// The file (for errors) and the part of it being read (e.g. "archive/data.pkl").
    let file: String
    let part: String
    /// False for the legacy layout's header pickles (magic, protocol, sys info, keys): no globals at all.
    let allowGlobals: Bool

    private let bytes: UnsafeRawBufferPointer
    private var at = 0
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    var containers = PickleContainers()

    init(bytes: UnsafeRawBufferPointer, file: String, part: String, allowGlobals: Bool = true) {
        self.bytes = bytes; self.file = file; self.part = part; self.allowGlobals = allowGlobals
    }

    /// Bytes consumed so far (after `run`: the pickle's length, through STOP).
    var consumed: Int { at }

    /// A `badPickle` error at the current opcode.
    func fail(_ reason: String) -> CheckpointError {
        .badPickle(file: file, part: part, offset: opcodeStart, reason: reason)
    }

    /// Runs to STOP and returns the pickled value.
    mutating func run() throws -> PickleValue {
        while true {
            opcodeStart = at
            let code = try byte()
            guard let op = PickleOpcode(rawValue: code) else {
                throw CheckpointError.unsafePickle(file: file, part: part, what: "opcode \(PickleOpcode.describe(code))")
            }
            if op == .stop {
                guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) values and \(marks.count) marks left") }
                return stack[0]
            }
            try step(op)
        }
    }

    // MARK: reading arguments

    private mutating func byte() throws -> UInt8 {
        guard at < bytes.count else { throw fail("the pickle ends before STOP (truncated)") }
        defer { at += 1 }
        return bytes[at]
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - at else { throw fail("an argument of \(n) bytes runs past the end (truncated or lying length)") }
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
    }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
        return v
    }

    /// A length prefix of `n` bytes, checked against the string cap before anything is allocated.
    private mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(Limits.stringBytes) else {
            throw fail("declared length \(v) exceeds the \(Limits.stringBytes)-byte limit for one value")
        }
        return Int(v)
    }

    private mutating func text(_ count: Int) throws -> String {
        let b = try take(count)
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("a str is not valid UTF-8") }
        return s
    }

    /// A text line ending in "\n" (GLOBAL's module and name), at most 256 bytes.
    private mutating func line() throws -> String {
        let start = at
        while at < bytes.count, bytes[at] != 0x0A {
            at += 1
            guard at - start <= 256 else { throw fail("GLOBAL name longer than 256 bytes") }
        }
        guard at < bytes.count else { throw fail("the pickle ends inside a GLOBAL name (truncated)") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        at += 1
        return s
    }

    // MARK: the stack

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < Limits.stack else { throw fail("more than \(Limits.stack) values on the stack") }
        guard v.depth <= Limits.depth else { throw fail("values nested deeper than \(Limits.depth) (nesting bomb)") }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("pop from an empty stack") }
        if let m = marks.last, stack.count < m { throw fail("pop below the last MARK") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("no value on the stack above the last MARK") }
        return v
    }

    /// Everything above the last MARK, removing the mark.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK to pop to") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    /// A new empty dict (also collections.OrderedDict() in TorchAllowList).
    mutating func newDict() throws -> PickleValue {
        guard containers.all.count < Limits.containers else { throw fail("more than \(Limits.containers) lists and dicts") }
        return containers.newDict()
    }

    private mutating func newList(_ items: [PickleValue]) throws -> PickleValue {
        guard containers.all.count < Limits.containers else { throw fail("more than \(Limits.containers) lists and dicts") }
        guard containers.itemCount + items.count <= Limits.items else { throw fail("more than \(Limits.items) items in lists and dicts") }
        return containers.newList(items)
    }

    private mutating func remember(_ index: Int) throws {
        guard memo[index] != nil || memo.count < Limits.memo else { throw fail("more than \(Limits.memo) memo entries (memo bomb)") }
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw fail("memo entry \(index) read before it was written") }
        return v
    }

    // MARK: one opcode

    private mutating func step(_ op: PickleOpcode) throws {
        switch op {
        case .proto:
            let v = try byte()
            guard (2...5).contains(v) else { throw fail("pickle protocol \(v) (2–5 are read)") }
        case .frame: _ = try uint(8)
        case .mark:
            guard marks.count < Limits.marks else { throw fail("more than \(Limits.marks) nested MARKs (nesting bomb)") }
            marks.append(stack.count)
        case .pop: _ = try pop()
        case .popMark: _ = try popMark()
        case .dup: try push(try top())
        case .none: try push(.none)
        case .newTrue: try push(.bool(true))
        case .newFalse: try push(.bool(false))
        case .binInt: try push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))
        case .binInt1: try push(.int(Int(try byte())))
        case .binInt2: try push(.int(Int(try uint(2))))
        case .long1: try pushLong(Int(try byte()))
        case .long4:
            let n = try uint(4)
            guard n <= UInt64(Limits.longBytes) else { throw fail("LONG4 of \(n) bytes (at most \(Limits.longBytes))") }
            try pushLong(Int(n))
        case .binFloat: try push(.float(Double(bitPattern: try uint(8).byteSwapped)))
        case .binUnicode: try push(.string(try text(try length(4))))
        case .shortBinUnicode: try push(.string(try text(try length(1))))
        case .binUnicode8: try push(.string(try text(try length(8))))
        case .binString: try pushLegacyString(try length(4))
        case .shortBinString: try pushLegacyString(try length(1))
        case .binBytes: try push(.bytes(Array(try take(try length(4)))))
        case .shortBinBytes: try push(.bytes(Array(try take(try length(1)))))
        case .binBytes8: try push(.bytes(Array(try take(try length(8)))))
        case .emptyTuple: try push(.tuple(PickleTuple([])))
        case .tuple: try push(.tuple(PickleTuple(try popMark())))
        case .tuple1:
            let a = try pop()
            try push(.tuple(PickleTuple([a])))
        case .tuple2:
            let b = try pop(), a = try pop()
            try push(.tuple(PickleTuple([a, b])))
        case .tuple3:
            let c = try pop(), b = try pop(), a = try pop()
            try push(.tuple(PickleTuple([a, b, c])))
        case .emptyList: try push(try newList([]))
        case .list: try push(try newList(try popMark()))
        case .append: try appendItems([try pop()])
        case .appends: try appendItems(try popMark())
        case .emptyDict: try push(try newDict())
        case .dict:
            let items = try popMark()
            let d = try newDict()
            try setItems(items, in: d)
            try push(d)
        case .setItem:
            let v = try pop(), k = try pop()
            try setItems([k, v], in: try top())
        case .setItems:
            let items = try popMark()
            try setItems(items, in: try top())
        case .binPut: try remember(Int(try byte()))
        case .longBinPut: try remember(Int(try uint(4)))
        case .memoize: try remember(memo.count)
        case .binGet: try push(try recall(Int(try byte())))
        case .longBinGet: try push(try recall(Int(try uint(4))))
        case .global:
            let module = try line(), name = try line()
            try push(try resolve(module, name))
        case .stackGlobal:
            guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                throw fail("STACK_GLOBAL needs two str values")
            }
            try push(try resolve(module, name))
        case .reduce:
            let args = try pop(), callable = try pop()
            guard case .tuple(let t) = args else { throw fail("REDUCE arguments are a \(args.typeName), expected a tuple") }
            guard case .global(let g) = callable else { throw fail("REDUCE calls a \(callable.typeName), which is not callable") }
            try push(try call(g, t.items))
        case .build:
            // Object state (e.g. a state dict's `_metadata` attribute): not weights; dropped.
            _ = try pop()
            switch try top() {
            case .dict, .tensor: break
            case let other: throw fail("BUILD on a \(other.typeName) (only a dict's or a tensor's state is accepted)")
            }
        case .binPersId: try push(try persistentLoad(try pop()))
        case .stop: break
        }
    }

    private mutating func pushLong(_ n: Int) throws {
        guard n <= Limits.longBytes else { throw fail("LONG1 of \(n) bytes (at most \(Limits.longBytes))") }
        let b = Array(try take(n))
        if n <= 8 {
            // Sign-extend the little-endian two's complement.
            var v: UInt64 = (b.last ?? 0) & 0x80 != 0 ? ~0 : 0
            for byte in b.reversed() { v = v << 8 | UInt64(byte) }
            try push(.int(Int(bitPattern: UInt(v))))
        } else {
            try push(.bigInt(b))
        }
    }

    /// Python 2 `str` (BINSTRING / SHORT_BINSTRING): a str when it is UTF-8, else bytes.
    private mutating func pushLegacyString(_ count: Int) throws {
        let b = try take(count)
        if let s = String(validating: b, as: UTF8.self) { try push(.string(s)) } else { try push(.bytes(Array(b))) }
    }

    private mutating func appendItems(_ items: [PickleValue]) throws {
        guard case .list(let index) = try top() else { throw fail("APPEND to a \(try top().typeName), expected a list") }
        guard containers.itemCount + items.count <= Limits.items else { throw fail("more than \(Limits.items) items in lists and dicts") }
        containers.append(items, toList: index)
    }

    private mutating func setItems(_ items: [PickleValue], in target: PickleValue) throws {
        guard case .dict(let index) = target else { throw fail("SETITEM on a \(target.typeName), expected a dict") }
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        guard containers.itemCount + items.count / 2 <= Limits.items else { throw fail("more than \(Limits.items) items in lists and dicts") }
        let pairs = stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
        containers.set(pairs, inDict: index)
    }

    /// Python 2 module names protocol-2 pickles are written with (pickle's fix_imports), mapped to
    /// the Python 3 modules Python's unpickler would import (a subset of _compat_pickle.IMPORT_MAPPING).
    static let python2Modules: [String: String] = [
        "__builtin__": "builtins", "exceptions": "builtins", "commands": "subprocess", "copy_reg": "copyreg",
        "cPickle": "pickle", "UserDict": "collections", "UserList": "collections", "urllib2": "urllib.request",
    ]

    /// The allow-listed global `module.name`; anything else is refused, named as Python 3 would
    /// import it (and as written, when that differs).
    private func resolve(_ module: String, _ name: String) throws -> PickleValue {
        let imported = (Self.python2Modules[module] ?? module) + "." + name
        guard allowGlobals, let g = PickleGlobal.allowed[imported] else {
            let written = module + "." + name
            let what = written == imported ? "global '\(imported)'" : "global '\(imported)' (written '\(written)')"
            throw CheckpointError.unsafePickle(file: file, part: part, what: what)
        }
        return .global(g)
    }
}
