// TorchStateDict — the unpickled top-level value as a state dict: a dict (OrderedDict) from str
// parameter names to tensors, in file order. Anything else — a non-str key, a value that is not a
// tensor (a nested dict, a list, a number) — is refused naming the key, as transformers would fail
// to load it; nothing inside such a value is walked, so a value built to be huge costs nothing.

enum TorchStateDict {
    /// (name, tensor) in insertion order. `part` names the pickle in errors.
    static func tensors(_ value: PickleValue, _ containers: PickleContainers, file: String, part: String) throws -> [(String, TorchTensorRef)] {
        guard case .dict(let index) = value else {
            throw CheckpointError.badPickle(file: file, part: part, offset: 0, reason: "the pickled object is a \(value.typeName), expected a state dict")
        }
        return try containers.dictPairs(index).map { key, v in
            guard case .string(let name) = key else {
                throw CheckpointError.badPickle(file: file, part: part, offset: 0, reason: "a state dict key is a \(key.typeName), expected a str")
            }
            guard case .tensor(let t) = v else {
                throw CheckpointError.badStorage(file: file, tensor: name, reason: "the value is a \(v.typeName), expected a tensor")
            }
            return (name, t)
        }
    }

    /// The storages the state dict's tensors use, by key (the first reference wins).
    static func storages(in value: PickleValue, _ containers: PickleContainers) -> [String: TorchStorageRef] {
        guard case .dict(let index) = value else { return [:] }
        var out: [String: TorchStorageRef] = [:]
        for (_, v) in containers.dictPairs(index) {
            if case .tensor(let t) = v, out[t.storage.key] == nil { out[t.storage.key] = t.storage }
        }
        return out
    }
}
