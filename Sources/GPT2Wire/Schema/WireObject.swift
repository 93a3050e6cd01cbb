// WireObject — a type whose JSON form is its list of WireFields: decoding and encoding are written once,
// here, for every request, response and nested object of the protocol.

import GPT2JSON

public protocol WireObject: Sendable, Equatable {
    /// The value decoding starts from: every defaulted field holds its default (the public initializer's
    /// default argument), every required field a placeholder that decoding overwrites.
    static var wireDefaults: Self { get }
    /// The members in wire order.
    static var wireFields: [WireField<Self>] { get }
    /// Decodes and validates a body (unknown members are ignored; `null` counts as absent).
    init(from body: JSONObject) throws(WireError)
    /// The members, in `wireFields` order.
    func json() -> JSONObject
    /// Rules between fields, checked after every field was read (e.g. "stride needs an aggregation").
    func validateFields() throws(WireError)
}

extension WireObject {
    public init(from body: JSONObject) throws(WireError) {
        var value = Self.wireDefaults
        let reader = FieldReader(body)
        for field in Self.wireFields { try field.read(reader, &value) }
        try value.validateFields()
        self = value
    }

    public func json() -> JSONObject {
        var o = JSONObject()
        for field in Self.wireFields { field.write(self, &o) }
        return o
    }

    public func validateFields() throws(WireError) {}
}
