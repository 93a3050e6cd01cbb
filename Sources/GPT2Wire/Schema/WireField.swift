// WireField — one member of a wire object, declared once: its JSON name, the stored property it maps
// to, its codec (type and validation) and how it is present (required, defaulted, omitted when default,
// optional, nullable). A type's fields, in order, drive both its decoding (that order is the order
// errors are found in) and its encoding (that order is the key order on the wire). A field holds a key
// path, so it is not Sendable: each type builds its table once, as a static constant.

import GPT2JSON

public struct WireField<Root> {
    /// Reads the field from a body into `root`; an absent field that is not required leaves `root` as is.
    let read: (FieldReader, inout Root) throws(WireError) -> Void
    /// Adds the field to `body`, or leaves it out.
    let write: (Root, inout JSONObject) -> Void

    /// A field that does not map onto one stored property (exclusive pairs, fields that change name).
    public static func custom(read: @escaping (FieldReader, inout Root) throws(WireError) -> Void,
                              write: @escaping (Root, inout JSONObject) -> Void) -> WireField {
        WireField(read: read, write: write)
    }

    /// Absent (or null) → `missing_field`; always written.
    public static func required<V>(_ name: String, _ path: WritableKeyPath<Root, V>, _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, root throws(WireError) in root[keyPath: path] = try r.required(name, codec) },
                  write: { root, o in o[name] = codec.write(root[keyPath: path]) })
    }

    /// Absent → nil; written only when set.
    public static func optional<V>(_ name: String, _ path: WritableKeyPath<Root, V?>, _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, root throws(WireError) in root[keyPath: path] = try r.optional(name, codec) },
                  write: { root, o in o.set(name, root[keyPath: path].map(codec.write)) })
    }

    /// Absent → nil; always written, nil as `null` (a number with no finite value, say).
    public static func nullable<V>(_ name: String, _ path: WritableKeyPath<Root, V?>, _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, root throws(WireError) in root[keyPath: path] = try r.optional(name, codec) },
                  write: { root, o in o[name] = codec.orNull.write(root[keyPath: path]) })
    }

    /// A value fixed by the protocol, not stored per instance: always written; on reading, absent →
    /// `missing_field`, any other value → `invalid_field` (a peer speaking another version).
    public static func constant<V: Equatable>(_ name: String, _ value: V, _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, _ throws(WireError) in
            guard try r.required(name, codec) == value else {
                throw WireError.invalidField(name, expected: "\(value)", got: r.object[name])
            }
        }, write: { _, o in o[name] = codec.write(value) })
    }

    /// The fields of a value stored at `path`, flat in this object (GenerateAdvanced in generate).
    public func embedded<Outer>(at path: WritableKeyPath<Outer, Root>) -> WireField<Outer> {
        let (read, write) = (self.read, self.write)
        return WireField<Outer>(read: { r, outer throws(WireError) in try read(r, &outer[keyPath: path]) },
                                write: { outer, o in write(outer[keyPath: path], &o) })
    }
}

extension WireField where Root: WireObject {
    /// Absent → the value in `Root.wireDefaults`; always written.
    public static func defaulted<V>(_ name: String, _ path: WritableKeyPath<Root, V>, _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, root throws(WireError) in
            if let v = try r.optional(name, codec) { root[keyPath: path] = v }
        }, write: { root, o in o[name] = codec.write(root[keyPath: path]) })
    }

    /// Absent → the value in `Root.wireDefaults`; written only when it differs from that value.
    public static func omittedWhenDefault<V: Equatable>(_ name: String, _ path: WritableKeyPath<Root, V>,
                                                        _ codec: WireCodec<V>) -> WireField {
        WireField(read: { r, root throws(WireError) in
            if let v = try r.optional(name, codec) { root[keyPath: path] = v }
        }, write: { root, o in
            let v = root[keyPath: path]
            if v != Root.wireDefaults[keyPath: path] { o[name] = codec.write(v) }
        })
    }
}
