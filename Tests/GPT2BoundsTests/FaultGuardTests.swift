// FaultGuardTests — a mapped file truncated under us: a read past its new end no longer kills the
// process; the region reads zeros and is flagged damaged. (CFaultGuard is plain C; it is tested here,
// beside the other bounds on what a user can do to the daemon.)

import CFaultGuard
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FaultGuardTests {
    @Test func aTruncatedMappingReadsZerosAndIsFlagged() throws {
        #expect(fg_install() == 0)
        let path = NSTemporaryDirectory() + "gpt2-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = 8 * page
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: size)))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)!
        close(fd)
        defer { munmap(p, size) }
        let slot = fg_register(p, size)
        #expect(slot >= 0)
        defer { fg_unregister(slot) }
        let bytes = p.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[5 * page] == 7)
        #expect(fg_region_damaged(slot) == 0)

        #expect(truncate(path, off_t(page)) == 0)
        let before = fg_patched_faults()
        // Past the new end: SIGBUS without the guard.
        #expect(bytes[5 * page] == 0)
        #expect(fg_region_damaged(slot) == 1)
        #expect(fg_patched_faults() == before + 1)
        // The whole region was replaced at once: no further faults.
        #expect(bytes[7 * page + 1] == 0)
        #expect(fg_patched_faults() == before + 1)
    }

    @Test func slotsAreFreedAndStartUndamaged() {
        // (Other suites map model files meanwhile, so which slot comes back is not fixed.)
        let a = fg_register(UnsafeRawPointer(bitPattern: 0x1000)!, 4096)
        #expect(a >= 0)
        #expect(fg_region_damaged(a) == 0)
        fg_unregister(a)
        #expect(fg_region_damaged(-1) == 0)
        #expect(fg_region_damaged(Int32(FG_MAX_REGIONS)) == 0)
    }
}
