// LoopbackAddress — the `http_tcp` setting's value: a loopback host and a TCP port for the HTTP
// listener's optional TCP socket (Listeners/HTTP/, bearer tokens required there).
//
// Accepted: `127.0.0.1:8000` (any 127.0.0.0/8 address), `[::1]:8000`, `localhost:8000` (taken as
// 127.0.0.1, never resolved through the network's name service). Port 0 asks the kernel for a free
// port (the bound one is logged; tests use it). Anything that is not loopback is refused: gpt2d's
// clients are on the same machine, and a wider exposure belongs to a proxy the operator configures.

#if canImport(Glibc)
import Glibc
#endif

public struct LoopbackAddress: Sendable, Equatable, CustomStringConvertible {
    /// A numeric loopback address: dotted IPv4 or `::1`.
    public var host: String
    public var port: Int

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port` / `[v6]:port`; nil with the reason when it is not a loopback address.
    public static func parse(_ text: String) -> Result<LoopbackAddress, SettingValueError> {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(SettingValueError("expected [::1]:PORT"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(SettingValueError("expected HOST:PORT")) }
            host = text[..<colon]
            // An IPv6 address needs its brackets: `::1:80` could be read more than one way.
            guard !host.contains(":") else { return .failure(SettingValueError("an IPv6 address goes in brackets: [::1]:PORT")) }
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            return .failure(SettingValueError("expected a port in 0...65535"))
        }
        let name = host == "localhost" ? "127.0.0.1" : String(host)
        guard isLoopback(name) else {
            return .failure(SettingValueError("'\(host.prefix(64))' is not a loopback address (127.0.0.0/8, ::1 or localhost)"))
        }
        return .success(LoopbackAddress(host: name, port: port))
    }

    /// True for a numeric IPv4 address in 127.0.0.0/8 or the IPv6 loopback address.
    static func isLoopback(_ host: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { b in b.prefix(15).allSatisfy { $0 == 0 } && b[15] == 1 }
    }
}

extension SettingType where Value == LoopbackAddress {
    /// `HOST:PORT` on a loopback address (LoopbackAddress.parse).
    public static var loopbackAddress: Self {
        Self(accepted: "127.0.0.1:PORT, [::1]:PORT or localhost:PORT", parse: { v throws(SettingValueError) in
            try LoopbackAddress.parse(v).get()
        }, format: { $0.description })
    }
}
