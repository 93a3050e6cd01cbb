// ModelListChange — what a re-read model list (SIGHUP) changes against the models the config
// served so far, by name: added (loaded), removed (unloaded), changed directory or weight type
// (replaced), changed keep_alive only (set on the model as it is). Names are unique in a checked config (DaemonConfig's check), so each name is in at most
// one list.

struct ModelListChange: Equatable, Sendable {
    /// Names only in the new list, in its order.
    var added: [ModelSpec] = []
    /// Names only in the old list, in its order.
    var removed: [ModelSpec] = []
    /// Names in both whose directory or weight type differ: the new entries, in the new list's order.
    var changed: [ModelSpec] = []
    /// Names in both whose keep_alive alone differs: the new entries.
    var keepAliveChanged: [ModelSpec] = []

    init(old: [ModelSpec], new: [ModelSpec]) {
        let before = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Set(new.map(\.name))
        for spec in new {
            if let was = before[spec.name] {
                if was.directory != spec.directory || was.weightType != spec.weightType {
                    changed.append(spec)
                } else if was.keepAliveSeconds != spec.keepAliveSeconds {
                    keepAliveChanged.append(spec)
                }
            } else {
                added.append(spec)
            }
        }
        removed = old.filter { !after.contains($0.name) }
    }

    var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && keepAliveChanged.isEmpty }
}
