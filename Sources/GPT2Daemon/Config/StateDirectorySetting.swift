// StateDirectorySetting — the `state_dir` setting: where the session database lives (Persistence/),
// so sessions survive a restart.
//   auto  (default) systemd's $STATE_DIRECTORY (the unit's StateDirectory=gpt2d, /var/lib/gpt2d; the
//         first folder when it lists several), and none when it is not set — a daemon started by hand
//         keeps sessions in memory unless told where;
//   none  sessions in memory only (gone at a restart);
//   /dir  that folder (created 0700 if missing).
// A folder that cannot be used is not fatal: the daemon logs an error and every session change then
// fails with `storage_unavailable` (everything else serves).

/// `state_dir`'s value (PathSetting.swift).
public typealias StateDirectorySetting = PathSetting

extension PathSetting {
    /// As `state_dir`: the folder to use under `environment` (a process's environment variables), or
    /// nil: no persistence.
    public func stateDirectory(environment: [String: String]) -> String? {
        switch self {
        case .none: return nil
        case .path(let p): return p
        case .auto:
            guard let listed = environment["STATE_DIRECTORY"],
                  let first = listed.split(separator: ":").first, first.hasPrefix("/") else { return nil }
            return String(first)
        }
    }
}
