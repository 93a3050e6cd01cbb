// PathSetting — the value of a setting that is `auto`, `none` or an absolute path (`cache_dir`, `state_dir`,
// `http_socket`). What `auto` resolves to belongs to each setting: CacheDirectorySetting.swift
// (`directory(environment:)`), StateDirectorySetting.swift (`stateDirectory(environment:)`) and
// HTTPSocketSetting.swift (`path(socket:)`).

public enum PathSetting: Sendable, Equatable {
    case auto
    case none
    case path(String)

    /// The config-file text (`auto`, `none`, the path).
    public var text: String {
        switch self {
        case .auto: return "auto"
        case .none: return "none"
        case .path(let p): return p
        }
    }
}

extension SettingType where Value == PathSetting {
    /// `auto`, `none` or an absolute path.
    public static var autoNoneOrPath: Self {
        Self(accepted: "auto, none or an absolute path", parse: { v throws(SettingValueError) in
            switch v.lowercased() {
            case "auto": return .auto
            case "none": return .none
            default:
                guard v.hasPrefix("/") else { throw SettingValueError("expected auto, none or an absolute path") }
                return .path(v)
            }
        }, format: { $0.text })
    }
}
