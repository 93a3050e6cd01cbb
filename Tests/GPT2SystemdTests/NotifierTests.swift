// SystemdNotifier against a fake NOTIFY_SOCKET: exact datagrams, path and abstract sockets.

@testable import GPT2Systemd
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension EnvironmentTests {
    @Suite struct NotifierTests {
        @Test func sendsExactDatagramsToPathSocket() throws {
            let listener = try DatagramListener()
            try withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                let notifier = SystemdNotifier()
                #expect(notifier.isActive)
                try expectProtocol(notifier, listener)
            }
        }

        @Test func sendsToAbstractSocket() throws {
            let listener = try DatagramListener(address: "@gpt2d-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                let notifier = SystemdNotifier()
                #expect(notifier.isActive)
                try expectProtocol(notifier, listener)
            }
        }

        @Test func reloadingCarriesCurrentMonotonicTime() throws {
            let listener = try DatagramListener()
            try withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                let before = NotifyMessage.monotonicMicroseconds()
                #expect(SystemdNotifier().reloading())
                let after = NotifyMessage.monotonicMicroseconds()
                let message = try #require(listener.receive())
                let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
                try #require(lines.count == 2)
                #expect(lines[0] == "RELOADING=1")
                #expect(lines[1].hasPrefix("MONOTONIC_USEC="))
                let usec = try #require(UInt64(lines[1].dropFirst("MONOTONIC_USEC=".count)))
                #expect(usec >= before && usec <= after)
            }
        }

        @Test func statusIsOneLine() throws {
            let listener = try DatagramListener()
            withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                SystemdNotifier().status("line one\nline two\r\nend")
                #expect(listener.receive() == "STATUS=line one line two  end")
            }
        }

        @Test func inactiveWithoutNotifySocket() throws {
            withEnvironment(["NOTIFY_SOCKET": nil]) {
                let notifier = SystemdNotifier()
                #expect(!notifier.isActive)
                #expect(!notifier.ready())
                #expect(notifier.sendReturningCode("READY=1") == 0)
                #expect(makeServiceNotifier() is NoopNotifier)
            }
            let listener = try DatagramListener()
            withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                #expect(makeServiceNotifier() is SystemdNotifier)
            }
        }

        @Test func unreachableSocketReportsFailure() throws {
            let path = TempPath.make("absent") + ".sock"
            withEnvironment(["NOTIFY_SOCKET": path]) {
                let notifier = SystemdNotifier()
                #expect(!notifier.ready())
                #expect(notifier.sendReturningCode("READY=1") < 0)
            }
        }

        @Test func concurrentSendsAllArrive() async throws {
            // 8 senders: below the kernel's default datagram queue length (net.unix.max_dgram_qlen = 10),
            // beyond which a sender blocks until the reader catches up.
            let listener = try DatagramListener()
            await withEnvironment(["NOTIFY_SOCKET": listener.address]) {
                await withTaskGroup(of: Void.self) { group in
                    for i in 0..<8 {
                        group.addTask { SystemdNotifier().status("task \(i)") }
                    }
                }
            }
            var seen: Set<String> = []
            while let message = listener.receive(timeoutMilliseconds: 500) { seen.insert(message) }
            #expect(seen == Set((0..<8).map { "STATUS=task \($0)" }))
        }
    }
}

/// Sends each message type once and checks the exact datagram.
private func expectProtocol(_ notifier: SystemdNotifier, _ listener: DatagramListener) throws {
    #expect(notifier.ready())
    #expect(listener.receive() == "READY=1")
    #expect(notifier.status("loaded gpt2 (124M), 0 sessions"))
    #expect(listener.receive() == "STATUS=loaded gpt2 (124M), 0 sessions")
    #expect(notifier.stopping())
    #expect(listener.receive() == "STOPPING=1")
    #expect(notifier.watchdog())
    #expect(listener.receive() == "WATCHDOG=1")
    #expect(notifier.extendTimeout(usec: 90_000_000))
    #expect(listener.receive() == "EXTEND_TIMEOUT_USEC=90000000")
    #expect(notifier.errno(ENOENT))
    #expect(listener.receive() == "ERRNO=\(ENOENT)")
    #expect(notifier.watchdogTrigger())
    #expect(listener.receive() == "WATCHDOG=trigger")
    #expect(notifier.reloading())
    let reload = try #require(listener.receive())
    #expect(reload.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
    #expect(UInt64(reload.dropFirst("RELOADING=1\nMONOTONIC_USEC=".count)) != nil)
    #expect(listener.receive(timeoutMilliseconds: 50) == nil)
}
