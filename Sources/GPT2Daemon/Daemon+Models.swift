// Daemon+Models — SIGHUP's model list (the `model` setting, applied live): the re-read list against
// the one served so far (ModelListChange), through the engine's registry (Engine+Models.swift):
//
//   added     loaded on the reloading thread (other models keep being served), then served;
//   changed   (directory or weight type) loaded beside the old model, which then drains;
//   removed   unloaded: new requests get model_unavailable at once, running ones may finish for
//             drain_timeout_s; the drain runs in the background, so the reload does not wait for it;
//   keep_alive only (`@SECONDS`) changed: set on the model as it serves (or as it idles).
//
// A model that fails to load is logged and left out (a changed one keeps its old model); the list
// kept in the settings is what serves, so the next SIGHUP tries the failed entries again.

import Foundation
import GPT2Core
import Logging

extension Daemon {
    /// Applies `new` against `old` (the settings' list until now); returns the list now served.
    func applyModelList(from old: [ModelSpec], to new: [ModelSpec], drainTimeout: Double) -> [ModelSpec] {
        let change = ModelListChange(old: old, new: new)
        guard !change.isEmpty else { return new }
        var served = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in change.removed {
            served[spec.name] = nil
            Task { [engine, logger] in
                do throws(EngineError) {
                    let r = try await engine.unloadModel(named: spec.name, drainTimeout: drainTimeout)
                    logger.info("model unloaded (SIGHUP)", metadata: [
                        "model": "\(spec.name)", "stopped_requests": "\(r.stoppedRequests)", "freed_kv_blocks": "\(r.freedKVBlocks)",
                    ])
                } catch {
                    logger.warning("model not unloaded (SIGHUP)", metadata: ["model": "\(spec.name)", "error": "\(error.message)"])
                }
            }
        }
        for spec in change.keepAliveChanged {
            if engine.setKeepAlive(spec.name, seconds: spec.keepAliveSeconds) { served[spec.name] = spec }
        }
        for spec in change.changed + change.added {
            notifier.status("loading model \(spec.name) from \(spec.directory)")
            do throws(EngineError) {
                let loaded = try change.added.contains(spec)
                    ? engine.loadModelNow(name: spec.name, directory: spec.directory, weightType: spec.weightType,
                                          keepAliveSeconds: spec.keepAliveSeconds)
                    : engine.replaceModel(name: spec.name, directory: spec.directory, weightType: spec.weightType,
                                          keepAliveSeconds: spec.keepAliveSeconds, drainTimeout: drainTimeout)
                served[spec.name] = spec
                metrics.modelLoaded(spec.name, seconds: loaded.seconds)
                logger.info("model loaded (SIGHUP)", metadata: [
                    "model": "\(spec.name)", "directory": "\(spec.directory)", "ms": "\(Int(loaded.seconds * 1000))",
                ])
            } catch {
                logger.error("model not loaded (SIGHUP); the model list keeps what serves", metadata: [
                    "model": "\(spec.name)", "directory": "\(spec.directory)", "error": "\(error.message)",
                ])
            }
        }
        return new.compactMap { served[$0.name] }
    }
}
