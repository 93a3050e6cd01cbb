// TorchAllowList — the only globals a PyTorch state dict may name, and what calling them means here
// (the idea of `torch.load(weights_only=True)`, narrowed to what torch.save writes for a dict of
// tensors). Nothing is ever imported or executed: a global is a name, looked up in this table, and
// "calling" one (REDUCE) builds a PickleValue. Any other name — `posix.system`, `builtins.eval`,
// `subprocess.Popen` — is refused by RestrictedUnpickler the moment its GLOBAL opcode is read.
//
// What torch 2.x writes for `torch.save(state_dict)` (checked against torch 2.13 by
// scripts/make_pickle_fixtures.py): `collections.OrderedDict` (the dict, and each tensor's empty
// backward-hooks argument), `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
// requires_grad, hooks[, metadata])`, and `torch.<Type>Storage` inside each storage's persistent id.
// `torch._utils._rebuild_tensor` (torch < 1.0) and `_rebuild_parameter` (an nn.Parameter in the
// dict) are accepted too. `torch.storage._load_from_bytes` (a storage pickled outside torch.save, a
// nested torch.load) is not: it is refused like any other global.

/// An allow-listed global.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensor
    case rebuildParameter
    /// `torch.FloatStorage` & co: the element type of a storage (only inside a persistent id).
    case storageType(SafeTensorsDType, name: String)

    /// The allow-list: "module.name" → global.
    static let allowed: [String: PickleGlobal] = {
        var table: [String: PickleGlobal] = [
            "collections.OrderedDict": .orderedDict,
            "torch._utils._rebuild_tensor_v2": .rebuildTensorV2,
            "torch._utils._rebuild_tensor": .rebuildTensor,
            "torch._utils._rebuild_parameter": .rebuildParameter,
        ]
        let storages: [(String, SafeTensorsDType)] = [
            ("FloatStorage", .F32), ("HalfStorage", .F16), ("BFloat16Storage", .BF16), ("DoubleStorage", .F64),
            ("LongStorage", .I64), ("IntStorage", .I32), ("ShortStorage", .I16), ("CharStorage", .I8),
            ("ByteStorage", .U8), ("BoolStorage", .BOOL),
        ]
        for (name, dtype) in storages { table["torch." + name] = .storageType(dtype, name: "torch." + name) }
        return table
    }()

    /// "module.name" as Python spells it.
    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .storageType(_, let name): return name
        }
    }
}

/// A storage named by a persistent id: torch.save's ('storage', <Type>Storage, key, location, numel)
/// (the zip layout) or the legacy layout's 6-tuple whose last item is nil or a view
/// (view_key, offset, view_numel) of the root storage.
struct TorchStorageRef: Equatable {
    /// The storage's key: the zip entry `data/<key>`, or the legacy layout's root key.
    let key: String
    let dtype: SafeTensorsDType
    /// Elements the (root) storage declares: its data holds numel · dtype.size bytes.
    let numel: Int
    /// The elements tensors may index: [viewOffset, viewOffset + viewCount) of the root storage
    /// (0 and numel but for a legacy view).
    let viewOffset: Int
    let viewCount: Int
}

/// A tensor rebuilt from a storage: element offset, sizes and strides (in elements), as torch's
/// `_rebuild_tensor_v2` receives them.
struct TorchTensorRef: Equatable {
    let storage: TorchStorageRef
    let offset: Int
    let size: [Int]
    let stride: [Int]
}

extension RestrictedUnpickler {
    /// Calls allow-listed `global` with `args` (REDUCE). Throws `badPickle` for arguments of the wrong shape.
    mutating func call(_ global: PickleGlobal, _ args: [PickleValue]) throws -> PickleValue {
        switch global {
        case .orderedDict:
            guard args.isEmpty else { throw fail("collections.OrderedDict called with \(args.count) arguments, expected none") }
            return try newDict()
        case .rebuildTensorV2, .rebuildTensor:
            // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
            let minimum = global == .rebuildTensor ? 4 : 6
            guard args.count >= minimum, args.count <= 7 else {
                throw fail("\(global.qualifiedName) called with \(args.count) arguments, expected \(minimum)–7")
            }
            guard case .storage(let storage) = args[0] else {
                throw fail("\(global.qualifiedName): first argument is a \(args[0].typeName), expected a storage")
            }
            guard case .int(let offset) = args[1], offset >= 0 else {
                throw fail("\(global.qualifiedName): storage offset is not a non-negative int")
            }
            let size = try intTuple(args[2], what: "size"), stride = try intTuple(args[3], what: "stride")
            guard size.count == stride.count else {
                throw fail("\(global.qualifiedName): \(size.count) sizes but \(stride.count) strides")
            }
            return .tensor(TorchTensorRef(storage: storage, offset: offset, size: size, stride: stride))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): the parameter is its data here.
            guard args.count == 3, case .tensor = args[0] else {
                throw fail("torch._utils._rebuild_parameter needs (tensor, requires_grad, hooks)")
            }
            return args[0]
        case .storageType:
            throw fail("\(global.qualifiedName) may only name a storage's type inside a persistent id")
        }
    }

    private func isNone(_ v: PickleValue) -> Bool {
        if case .none = v { return true }
        return false
    }

    /// A tuple of non-negative ints (a size or stride).
    private func intTuple(_ v: PickleValue, what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw fail("tensor \(what) is a \(v.typeName), expected a tuple of ints") }
        return try t.items.map { item in
            guard case .int(let n) = item, n >= 0 else { throw fail("tensor \(what) holds a \(item.typeName) or a negative int") }
            return n
        }
    }

    /// The storage a persistent id names (BINPERSID). Accepts torch.save's 5-tuple (zip layout) and
    /// the legacy 6-tuple.
    func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.items.count == 5 || t.items.count == 6 else {
            throw fail("persistent id is a \(pid.typeName), expected ('storage', type, key, location, numel[, view])")
        }
        let items = t.items
        guard case .string("storage") = items[0] else { throw fail("persistent id does not start with 'storage'") }
        guard case .global(.storageType(let dtype, _)) = items[1] else {
            throw fail("persistent id names a \(items[1].typeName), expected a torch.<Type>Storage")
        }
        guard case .string(let key) = items[2] else { throw fail("storage key is a \(items[2].typeName), expected a str") }
        guard case .int(let numel) = items[4], numel >= 0 else { throw fail("storage numel is not a non-negative int") }
        if items.count == 6, case .tuple(let view) = items[5] {
            // Legacy storage view: (view_key, offset, view_numel) inside root storage `key`.
            guard view.items.count == 3, case .int(let off) = view.items[1], case .int(let n) = view.items[2],
                  off >= 0, n >= 0, off <= numel, n <= numel - off else {
                throw fail("storage view of '\(key)' is not (key, offset, numel) inside its \(numel)-element root")
            }
            return .storage(TorchStorageRef(key: key, dtype: dtype, numel: numel, viewOffset: off, viewCount: n))
        } else if items.count == 6, !isNone(items[5]) {
            throw fail("storage view metadata is a \(items[5].typeName), expected None or a tuple")
        }
        return .storage(TorchStorageRef(key: key, dtype: dtype, numel: numel, viewOffset: 0, viewCount: numel))
    }
}
