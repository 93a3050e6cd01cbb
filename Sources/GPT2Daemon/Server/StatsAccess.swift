// StatsAccess — who may see the daemon's totals in `stats` (and read `metrics`, GET /metrics): root
// (uid 0), the members of the group named by `admin_group` and the bearer-token principals listed in
// `admin_tokens`. Everyone else sees only their own counts.
//
// Membership is the user database's: the group is the user's primary group (passwd's gid) or lists
// the user's name among its members (group's member list) — what `id -G <user>` shows, resolved
// when `stats` is asked, so a change to /etc/group applies without a reload. A uid with no passwd
// entry is a member of nothing.

#if canImport(Glibc)
import Glibc
#endif

enum StatsAccess {
    /// A passwd entry, as far as membership needs it.
    struct Account: Equatable, Sendable {
        var name: String
        var primaryGroup: UInt32
    }

    /// A group entry, as far as membership needs it.
    struct Group: Equatable, Sendable {
        var gid: UInt32
        var members: [String]
    }

    /// True when `principal` may see the totals, with the user and group lookups given (tests
    /// pass their own; the daemon the system's).
    static func seesTotals(_ principal: Principal, adminGroup: String?, adminTokens: Set<String> = [],
                           account: (UInt32) -> Account?, group: (String) -> Group?) -> Bool {
        switch principal {
        case .unixUser(let uid):
            if uid == 0 { return true }
            guard let name = adminGroup, let g = group(name), let a = account(uid) else { return false }
            return a.primaryGroup == g.gid || g.members.contains(a.name)
        case .token(let name):
            return adminTokens.contains(name)
        }
    }

    /// `seesTotals` under `policy` (its admin_group and admin_tokens), against the system's user database.
    static func seesTotals(_ principal: Principal, policy: ConnectionPolicy) -> Bool {
        seesTotals(principal, adminGroup: policy.adminGroup, adminTokens: policy.adminTokens,
                   account: systemAccount, group: systemGroup)
    }

    /// getpwuid_r: the user's name and primary group, nil when the uid has no entry.
    static func systemAccount(_ uid: UInt32) -> Account? {
        withLookupBuffer { buffer in
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>? = nil
            let rc = getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result)
            guard rc == 0 else { return rc == ERANGE ? .retry : .done(nil) }
            guard let r = result, let name = r.pointee.pw_name else { return .done(nil) }
            return .done(Account(name: String(cString: name), primaryGroup: r.pointee.pw_gid))
        }
    }

    /// getgrnam_r: the group's gid and member names, nil when there is no such group.
    static func systemGroup(_ name: String) -> Group? {
        withLookupBuffer { buffer in
            var entry = group()
            var result: UnsafeMutablePointer<group>? = nil
            let rc = getgrnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result)
            guard rc == 0 else { return rc == ERANGE ? .retry : .done(nil) }
            guard let r = result else { return .done(nil) }
            var members: [String] = []
            if var p = r.pointee.gr_mem {
                while let m = p.pointee { members.append(String(cString: m)); p += 1 }
            }
            return .done(Group(gid: r.pointee.gr_gid, members: members))
        }
    }

    private enum Lookup<T> { case done(T?), retry }

    /// Runs a *_r lookup with a scratch buffer of 16 KiB, doubled on ERANGE up to 1 MiB.
    private static func withLookupBuffer<T>(_ body: (UnsafeMutableBufferPointer<CChar>) -> Lookup<T>) -> T? {
        var size = 16 << 10
        while size <= 1 << 20 {
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            switch body(buffer) {
            case .done(let value): return value
            case .retry: size *= 2
            }
        }
        return nil
    }
}
