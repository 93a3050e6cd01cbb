// `stats` per user: root and members of admin_group see the daemon's totals; any other user sees
// only their own counts (scope "user", no engine counters).
import Foundation
import Testing
import GPT2JSON
import GPT2Systemd
import GPT2Wire
@testable import GPT2Daemon

@Suite struct StatsScopeTests {
    @Test func membershipIsRootThePrimaryGroupOrTheMemberList() {
        let accounts: [UInt32: StatsAccess.Account] = [
            1000: .init(name: "ann", primaryGroup: 50), 1001: .init(name: "ben", primaryGroup: 100), 1002: .init(name: "cy", primaryGroup: 100),
        ]
        let groups = ["ops": StatsAccess.Group(gid: 50, members: ["ben"])]
        func sees(_ uid: UInt32, _ group: String?) -> Bool {
            StatsAccess.seesTotals(.unixUser(uid: uid), adminGroup: group, account: { accounts[$0] }, group: { groups[$0] })
        }
        #expect(sees(0, nil) && sees(0, "ops"))       // root always
        #expect(sees(1000, "ops"))                     // primary group
        #expect(sees(1001, "ops"))                     // listed member
        #expect(!sees(1002, "ops"))                    // neither
        #expect(!sees(1000, nil) && !sees(1000, "missing"))
        #expect(!sees(4242, "ops"))                    // no passwd entry: member of nothing
    }

    @Test func tokenPrincipalsSeeTotalsOnlyWhenListedInAdminTokens() throws {
        let policy = ConnectionPolicy(adminGroup: "root", adminTokens: ["ops-bot"])
        #expect(StatsAccess.seesTotals(.token(name: "ops-bot"), policy: policy))
        #expect(!StatsAccess.seesTotals(.token(name: "alice"), policy: policy))
        #expect(!StatsAccess.seesTotals(.token(name: "ops-bot"), policy: ConnectionPolicy(adminGroup: "root")))
        // A token principal named like a group or a user is still only a token principal.
        #expect(!StatsAccess.seesTotals(.token(name: "root"), policy: policy))
        // The setting: comma-separated names, `none` for the empty list; bad names and repeats refused.
        let type = DaemonSettings.adminTokens.type
        #expect(try type.parse("ops-bot, grafana@host") == ["ops-bot", "grafana@host"])
        #expect(try type.parse("none") == [] && (try type.parse("")) == [])
        #expect(throws: SettingValueError.self) { try type.parse("a,,b") }
        #expect(throws: SettingValueError.self) { try type.parse("a b") }
        #expect(throws: SettingValueError.self) { try type.parse("a,a") }
        #expect(type.format(["a", "b"]) == "a,b" && type.format([]) == "none")
    }

    @Test func theSystemsUserDatabaseIsRead() throws {
        // Debian's `daemon` user (uid 1) has the `daemon` group (gid 1) as its primary group.
        let daemon = try #require(StatsAccess.systemAccount(1))
        #expect(daemon.name == "daemon")
        #expect(try #require(StatsAccess.systemGroup("daemon")).gid == daemon.primaryGroup)
        #expect(StatsAccess.seesTotals(.unixUser(uid: 1), policy: ConnectionPolicy(adminGroup: "daemon")))
        #expect(!StatsAccess.seesTotals(.unixUser(uid: 1), policy: ConnectionPolicy(adminGroup: "root")))
        #expect(StatsAccess.systemGroup("no-such-group-gpt2d") == nil)
    }

    @Test func aUserSeesTheirOwnCountsAndAdminsSeeTotals() async throws {
        // Connection 1 is the test's own (root); 2 is uid 4242; 3 is uid 1, a member of admin_group.
        let counter = Locked(0)
        let h = try await DaemonHarness.start(DaemonHarness.config { $0.adminGroup = "daemon" }, credentialsFilter: { real in
            let n = counter.withLock { n -> Int in n += 1; return n }
            switch n {
            case 1: return real
            case 2: return PeerCredentials(pid: real.pid, uid: 4242, gid: 4242)
            default: return PeerCredentials(pid: real.pid, uid: 1, gid: 1)
            }
        })
        let root = try await h.connect()
        _ = try await root.call("health")  // make sure connection 1 is accepted first
        let user = try await h.connect()
        _ = try await user.call("health")
        let admin = try await h.connect()
        for _ in 0..<2 { _ = try await root.call("generate", ["model": "tiny", "prompt": "Hello there", "max_new_tokens": 5]) }
        let mine = try await user.call("generate", ["model": "tiny", "tokens": [1, 2, 3].jsonArray, "max_new_tokens": 3])
        #expect(mine.ints("tokens")?.count == 3)
        _ = try await user.callError("no.such.op")

        let own = try await user.call("stats")
        #expect(own.string("scope") == "user")
        #expect(own.int("connections") == 1)
        // health, generate, the unknown op and this stats line; one error line.
        #expect(own.int("requests_total") == 4 && own.int("errors_total") == 1)
        #expect(own.int("prompt_tokens_total") == 3 && own.int("completion_tokens_total") == 3)
        #expect(own.int("requests_active") == 0 && own.int("sessions") == 0)
        #expect(own["forward_passes_total"] == nil && own["kv_bytes_in_use"] == nil)

        for client in [root, admin] {
            let all = try await client.call("stats")
            #expect(all.string("scope") == "all")
            #expect(all.int("connections") == 3)
            #expect(try #require(all.int("completion_tokens_total")) >= 13)
            #expect(all["forward_passes_total"] != nil)
        }
        await h.stop()
    }
}
