// CheckpointLoader + QuantizedCache — the loader's use of the on-disk cache of quantized matrices
// (LoadOptions.cacheDirectory, quantized weight types only):
//   1. before materialising: digest the checkpoint (QuantizedCacheKey), open "<folder>/<file name>"
//      and, when every check passes, build each planned matrix as a PackedMatrix over the file's
//      mapping (init(segments:), no copy) — any matrix missing or of the wrong size rejects the file;
//   2. the materialiser uses those matrices instead of quantizing (WeightMaterializer's `cached`);
//   3. after it: on a miss or a rejected file, write the quantized matrices to the cache (atomically);
//      a folder that cannot be created or written only sets the report's `writeError`.

import Foundation

extension CheckpointLoader {
    /// One quantized load's cache: where its file is, its key, and what opening it found.
    struct QuantizedCacheSession {
        let path: String
        let key: QuantizedCacheKey
        let digestSeconds: Double
        /// On a hit: every packed matrix of the plan, by plan key, viewing `mapping`.
        var matrices: [String: any PackedMatrix] = [:]
        /// On a hit: the cache file's mapping (kept alive by GPT2Weights' storage).
        var mapping: MappedFile?
        /// Why an existing file was not used.
        var rejected: String?
        var openSeconds = 0.0
    }

    /// (outputs N, inputs K) of a planned matrix as its PackedMatrix holds it (output-major).
    static func outputMajorShape(_ p: Planned) -> (n: Int, k: Int) {
        let s = p.source.info.shape
        return p.role == .conv1D ? (s[1], s[0]) : (s[0], s[1])
    }

    /// Step 1. nil when no cache applies (no folder, or not a packed weight type).
    static func openQuantizedCache(_ plan: [Planned], configPath: String, files: [SafeTensorsFile], directory: String,
                                   options: LoadOptions, formats: [WeightType: any PackedMatrix.Type]) throws -> QuantizedCacheSession? {
        guard let folder = options.cacheDirectory, let type = options.weightType, let format = formats[type] else { return nil }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let digest = try QuantizedCacheKey.checkpointDigest(configPath: configPath, files: files, discarding: true)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let key = QuantizedCacheKey(checkpointDigest: digest, weightType: type, format: format)
        let path = (folder.hasSuffix("/") ? String(folder.dropLast()) : folder) + "/"
            + QuantizedCacheKey.fileName(checkpointDirectory: directory, weightType: type)
        var session = QuantizedCacheSession(path: path, key: key, digestSeconds: Double(t1 - t0) / 1e9)
        do {
            if let opened = try QuantizedCacheFile.open(path: path, key: key, preload: options.preload) {
                var matrices: [String: any PackedMatrix] = [:]
                for p in plan where p.role != .vector {
                    let (n, k) = outputMajorShape(p)
                    let segments = opened.segments(p.key, type)
                    guard !segments.isEmpty else { throw QuantizedCacheRejection(reason: "no tensors for '\(p.key)'") }
                    do {
                        matrices[p.key] = try format.init(outputs: n, inputs: k, segments: segments, owner: opened.file.mapping)
                    } catch {
                        throw QuantizedCacheRejection(reason: "'\(p.key)': \(error)")
                    }
                }
                session.matrices = matrices
                session.mapping = opened.file.mapping
            }
        } catch let r as QuantizedCacheRejection {
            session.rejected = r.reason
        }
        session.openSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        return session
    }

    /// Step 3: the report; on a miss or a rejected file, writes `tensors`' packed matrices first.
    static func finishQuantizedCache(_ session: QuantizedCacheSession, _ plan: [Planned], _ tensors: [Tensor]) -> QuantizedCacheReport {
        if session.mapping != nil {
            return QuantizedCacheReport(path: session.path, outcome: .hit, rejected: nil, writeError: nil,
                                        digestSeconds: session.digestSeconds, fileSeconds: session.openSeconds)
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var matrices: [(key: String, matrix: any PackedMatrix)] = []
        for (p, t) in zip(plan, tensors) where p.role != .vector {
            if let m = t.packed { matrices.append((p.key, m)) }
        }
        var writeError: String? = nil
        do {
            let folder = (session.path as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw QuantizedCacheRejection(reason: "cannot create \(folder): \(error.localizedDescription)")
            }
            try QuantizedCacheFile.write(path: session.path, key: session.key, matrices: matrices)
        } catch let r as QuantizedCacheRejection {
            writeError = r.reason
        } catch {
            writeError = "\(error)"
        }
        let seconds = session.openSeconds + Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        return QuantizedCacheReport(path: session.path, outcome: session.rejected == nil ? .miss : .rebuilt,
                                    rejected: session.rejected, writeError: writeError,
                                    digestSeconds: session.digestSeconds, fileSeconds: seconds)
    }
}
