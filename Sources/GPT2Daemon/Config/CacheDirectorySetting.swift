// CacheDirectorySetting — the `cache_dir` setting: where quantized weights (weight_type int8, nf4, q4)
// are cached on disk so later starts map them instead of quantizing (GPT2Core's QuantCache).
//   auto  (default) systemd's $CACHE_DIRECTORY (the unit's CacheDirectory=gpt2d, /var/cache/gpt2d;
//         the first folder when it lists several), and no cache when it is not set — a daemon
//         started by hand writes nothing unless told where;
//   none  no cache;
//   /dir  that folder (created if missing).
// A folder that cannot be written is not fatal: the model is served from the weights just
// quantized and the daemon logs one warning.

/// `cache_dir`'s value (PathSetting.swift).
public typealias CacheDirectorySetting = PathSetting

extension PathSetting {
    /// As `cache_dir`: the folder to use under `environment` (a process's environment variables), or
    /// nil: no cache.
    public func directory(environment: [String: String]) -> String? {
        switch self {
        case .none: return nil
        case .path(let p): return p
        case .auto:
            guard let listed = environment["CACHE_DIRECTORY"],
                  let first = listed.split(separator: ":").first, first.hasPrefix("/") else { return nil }
            return String(first)
        }
    }
}
