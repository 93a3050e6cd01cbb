// HTTPSocketSetting — the `http_socket` setting: where the OpenAI-compatible HTTP listener
// (Listeners/HTTP/) listens.
//   auto  (default) socket-activated: the fd named "http" (gpt2d-http.socket), and no HTTP listener
//         when the activation passed none — under systemd the units decide. Not activated:
//         /run/gpt2d/http.sock when `socket` has its default; otherwise beside `socket`, its path
//         with a final ".sock" replaced by ".http.sock" (".http.sock" appended when it has none), so a
//         daemon given another socket never collides with one serving the default paths;
//   none  no HTTP listener;
//   /path that path (an activated fd named "http" still wins, as `socket` yields to activation).

/// `http_socket`'s value (PathSetting.swift).
public typealias HTTPSocketSetting = PathSetting

extension PathSetting {
    /// Where the default JSON-lines socket's HTTP sibling lives.
    public static let defaultHTTPPath = "/run/gpt2d/http.sock"

    /// As `http_socket`: the path to bind when nothing is socket-activated for HTTP, given the
    /// JSON-lines `socket` setting; nil: no HTTP listener.
    public func path(socket: String) -> String? {
        switch self {
        case .none: return nil
        case .path(let p): return p
        case .auto:
            if socket == DaemonSettings.socket.defaultValue { return Self.defaultHTTPPath }
            return socket.hasSuffix(".sock") ? String(socket.dropLast(5)) + ".http.sock" : socket + ".http.sock"
        }
    }
}
