// ParameterRange — an interval of allowed values for one request parameter, with the phrase that
// names it in error messages ("a number > 0", "a number in (0, 1]"). Declared once per parameter
// in `GenerationParameterRanges`; GPT2Core's SamplingParameters.validate and GPT2Wire's field
// codecs both check against that declaration, so every path gives the same answer.

/// Real-valued parameters: each end absent, open or closed. Only finite values are ever inside.
public struct NumberRange: Sendable, Equatable {
    public enum Bound: Sendable, Equatable {
        case none
        case open(Double)
        case closed(Double)
    }

    public let lower: Bound
    public let upper: Bound

    public init(lower: Bound = .none, upper: Bound = .none) { self.lower = lower; self.upper = upper }

    /// [lo, hi].
    public static func closed(_ lo: Double, _ hi: Double) -> NumberRange { NumberRange(lower: .closed(lo), upper: .closed(hi)) }

    public func contains(_ x: Double) -> Bool {
        guard x.isFinite else { return false }
        switch lower {
        case .none: break
        case .open(let lo): if !(x > lo) { return false }
        case .closed(let lo): if !(x >= lo) { return false }
        }
        switch upper {
        case .none: return true
        case .open(let hi): return x < hi
        case .closed(let hi): return x <= hi
        }
    }

    public func contains(_ x: Float) -> Bool { contains(Double(x)) }

    /// "a finite number", "a number > 0", "a number >= 0", "a number in (0, 1]", "a number in [-2, 2]".
    public var expected: String {
        switch (lower, upper) {
        case (.none, .none): return "a finite number"
        case (.open(let lo), .none): return "a number > \(Self.format(lo))"
        case (.closed(let lo), .none): return "a number >= \(Self.format(lo))"
        case (.none, .open(let hi)): return "a number < \(Self.format(hi))"
        case (.none, .closed(let hi)): return "a number <= \(Self.format(hi))"
        default: return "a number in \(Self.left(lower))\(Self.format(lowerValue)), \(Self.format(upperValue))\(Self.right(upper))"
        }
    }

    private var lowerValue: Double { if case .open(let v) = lower { return v }; if case .closed(let v) = lower { return v }; return 0 }
    private var upperValue: Double { if case .open(let v) = upper { return v }; if case .closed(let v) = upper { return v }; return 0 }
    private static func left(_ b: Bound) -> String { if case .open = b { return "(" }; return "[" }
    private static func right(_ b: Bound) -> String { if case .open = b { return ")" }; return "]" }

    /// 2.0 → "2", 0.5 → "0.5".
    public static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
