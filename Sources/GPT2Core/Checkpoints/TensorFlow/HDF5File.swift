// HDF5File — the few libhdf5 calls a Keras weight file needs (CHDF5; GPT2Core is its only importer):
// open read-only, list every dataset, describe one (float class, size, byte order, dims, filters)
// and read it raw into caller memory.
//
// libhdf5 keeps process-wide state (open-object tables, caches; the serial build has no locks at
// all), so every call runs inside `HDF5.serialized`, one thread at a time. By default it prints its
// error stack to stderr on any failure: `serialized` turns that off for the calling thread (Debian's
// build is thread-safe, where the setting is per thread) and failures become typed errors carrying
// the innermost message of the stack (`HDF5.lastError`).

import CHDF5
import Foundation

enum HDF5 {
    // Recursive: an HDF5File closed (deinit) inside a serialized block takes it again.
    private static let lock = NSRecursiveLock()

    /// Runs `body` holding the process-wide HDF5 lock, with automatic error printing off.
    static func serialized<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = H5open()
        _ = H5Eset_auto2(hid_t(0) /* H5E_DEFAULT */, nil, nil)
        return try body()
    }

    /// The most specific message on the current error stack ("function: description"), then
    /// clears the stack. Call inside `serialized`.
    static func lastError() -> String {
        var message = ""
        withUnsafeMutablePointer(to: &message) { p in
            _ = H5Ewalk2(hid_t(0), H5E_WALK_UPWARD, { n, entry, context in
                if n == 0, let entry, let context {
                    let what = entry.pointee.desc.map { String(cString: $0) } ?? "error"
                    let function = entry.pointee.func_name.map { String(cString: $0) } ?? "HDF5"
                    context.assumingMemoryBound(to: String.self).pointee = "\(function): \(what)"
                }
                return 0
            }, p)
        }
        _ = H5Eclear2(hid_t(0))
        return message.isEmpty ? "unknown HDF5 error" : message
    }
}

/// An HDF5 file open read-only. Use only inside `HDF5.serialized`; closed in deinit (also inside it).
final class HDF5File {
    let path: String
    private let id: hid_t

    /// What a dataset holds.
    struct DatasetInfo {
        /// H5T_FLOAT with IEEE binary32 / binary16 fields, little-endian: its dtype; nil otherwise.
        let dtype: SafeTensorsDType?
        /// The type in words (for errors), e.g. "integer of 8 bytes".
        let typeName: String
        /// Dimensions (rank ≤ `HDF5File.maxRank`).
        let shape: [Int]
        /// Filters in its pipeline (compression, shuffle); 0 for what Keras writes.
        let filters: Int
    }

    static let maxRank = 8
    /// Most links listed in one file (a GPT-2 Keras file has a few hundred).
    static let maxLinks = 1 << 16

    /// Opens `path` read-only. Throws `.badHDF5` with libhdf5's reason.
    init(path: String) throws {
        self.path = path
        let id = H5Fopen(path, 0 /* H5F_ACC_RDONLY */, hid_t(0) /* H5P_DEFAULT */)
        guard id >= 0 else { throw CheckpointError.badHDF5(file: path, reason: "cannot open: " + HDF5.lastError()) }
        self.id = id
    }

    deinit { HDF5.serialized { _ = H5Fclose(id) } }

    /// Every dataset's path from the root (e.g. "transformer/tfgpt2_model/transformer/wte/embeddings:0"),
    /// in name order. Throws `.badHDF5` when the file lists more than `maxLinks` links or cannot be walked.
    func datasetPaths() throws -> [String] {
        let visit = LinkVisit()
        let status = H5Lvisit(id, H5_INDEX_NAME, H5_ITER_INC, { _, name, info, context in
            let visit = Unmanaged<LinkVisit>.fromOpaque(context!).takeUnretainedValue()
            guard visit.links.count < HDF5File.maxLinks else { visit.overflow = true; return 1 }
            if let name, let info, info.pointee.type == H5L_TYPE_HARD { visit.links.append(String(cString: name)) }
            return 0
        }, Unmanaged.passUnretained(visit).toOpaque())
        if visit.overflow { throw CheckpointError.badHDF5(file: path, reason: "more than \(Self.maxLinks) objects") }
        guard status >= 0 else { throw CheckpointError.badHDF5(file: path, reason: "cannot list its objects: " + HDF5.lastError()) }
        return try visit.links.filter { link in
            var info = H5O_info_t()
            guard H5Oget_info_by_name2(id, link, &info, UInt32(H5O_INFO_BASIC), hid_t(0)) >= 0 else {
                throw CheckpointError.badHDF5(file: path, reason: "cannot read object '\(link)': " + HDF5.lastError())
            }
            return info.type == H5O_TYPE_DATASET
        }
    }

    /// What the H5Lvisit callback collects: hard links' paths, and whether there were too many.
    private final class LinkVisit {
        var links: [String] = []
        var overflow = false
    }

    /// Opens dataset `name` for `body`. Throws `.badStorage` naming it when it cannot be opened.
    func withDataset<T>(_ name: String, _ body: (hid_t) throws -> T) throws -> T {
        let ds = H5Dopen2(id, name, hid_t(0))
        guard ds >= 0 else { throw CheckpointError.badStorage(file: path, tensor: name, reason: "cannot open the dataset: " + HDF5.lastError()) }
        defer { _ = H5Dclose(ds) }
        return try body(ds)
    }

    /// The dataset's type, dims and filters. Throws `.badStorage` naming it.
    func describe(_ ds: hid_t, name: String) throws -> DatasetInfo {
        let type = H5Dget_type(ds), space = H5Dget_space(ds), plist = H5Dget_create_plist(ds)
        defer {
            if type >= 0 { _ = H5Tclose(type) }
            if space >= 0 { _ = H5Sclose(space) }
            if plist >= 0 { _ = H5Pclose(plist) }
        }
        guard type >= 0, space >= 0, plist >= 0 else {
            throw CheckpointError.badStorage(file: path, tensor: name, reason: "cannot read its header: " + HDF5.lastError())
        }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0, rank <= Self.maxRank else {
            throw CheckpointError.badStorage(file: path, tensor: name, reason: rank < 0 ? "unreadable dataspace" : "rank \(rank) exceeds \(Self.maxRank)")
        }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        guard H5Sget_simple_extent_dims(space, &dims, nil) == rank else {
            throw CheckpointError.badStorage(file: path, tensor: name, reason: "unreadable dimensions: " + HDF5.lastError())
        }
        let shape = try dims.prefix(rank).map { d -> Int in
            guard d <= hsize_t(Int.max) else { throw CheckpointError.badStorage(file: path, tensor: name, reason: "dimension \(d) is too large") }
            return Int(d)
        }
        let size = H5Tget_size(type)
        let cls = H5Tget_class(type)
        var dtype: SafeTensorsDType? = nil
        let typeName: String
        if cls == H5T_FLOAT {
            typeName = "float of \(size) bytes"
            var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
            _ = H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize)
            let little = H5Tget_order(type) == H5T_ORDER_LE
            if little, size == 4, (spos, epos, esize, mpos, msize) == (31, 23, 8, 0, 23) { dtype = .F32 }
            if little, size == 2, (spos, epos, esize, mpos, msize) == (15, 10, 5, 0, 10) { dtype = .F16 }
        } else {
            typeName = (cls == H5T_INTEGER ? "integer" : cls == H5T_STRING ? "string" : "class-\(cls.rawValue)") + " of \(size) bytes"
        }
        return DatasetInfo(dtype: dtype, typeName: typeName, shape: shape, filters: Int(H5Pget_nfilters(plist)))
    }

    /// Reads the whole dataset, in its own (file) type, into `dst` (which holds its bytes).
    /// Throws `.badStorage` naming it (a truncated file fails here).
    func read(_ ds: hid_t, name: String, into dst: UnsafeMutableRawPointer) throws {
        let type = H5Dget_type(ds)
        guard type >= 0 else { throw CheckpointError.badStorage(file: path, tensor: name, reason: "cannot read its type: " + HDF5.lastError()) }
        defer { _ = H5Tclose(type) }
        guard H5Dread(ds, type, hid_t(0) /* H5S_ALL */, hid_t(0), hid_t(0), dst) >= 0 else {
            throw CheckpointError.badStorage(file: path, tensor: name, reason: "cannot read its data: " + HDF5.lastError())
        }
    }
}
