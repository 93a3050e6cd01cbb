// ExactRowsMatrix — a test PackedMatrix that keeps its rows as plain F32 (no quantization error), so
// tests can check what the loader hands a format (orientation, tied sharing) and that the forward
// pass's packed dispatch computes the same model as the F32 path.
import Foundation
@testable import GPT2Core

final class ExactRowsMatrix: PackedMatrix, @unchecked Sendable {
    /// Poses as int8 (tests register it under that type for one load).
    static var weightType: WeightType { .int8 }

    let outputs: Int
    let inputs: Int
    /// (outputs, inputs) row-major.
    private let rows: UnsafeMutablePointer<Float>
    private let owner: AnyObject?

    init(quantizing rows: UnsafePointer<Float>, outputs: Int, inputs: Int) {
        self.outputs = outputs; self.inputs = inputs
        self.rows = .allocate(capacity: max(1, outputs * inputs))
        self.rows.update(from: rows, count: outputs * inputs)
        owner = nil
    }

    init(outputs: Int, inputs: Int, segments: [UnsafeRawBufferPointer], owner: AnyObject) throws {
        struct Mismatch: Error {}
        guard segments.count == 1, segments[0].count == 4 * outputs * inputs else { throw Mismatch() }
        self.outputs = outputs; self.inputs = inputs
        self.rows = .allocate(capacity: max(1, outputs * inputs))
        UnsafeMutableRawPointer(self.rows).copyMemory(from: segments[0].baseAddress!, byteCount: segments[0].count)
        self.owner = owner
    }

    deinit { rows.deallocate() }

    var segments: [UnsafeRawBufferPointer] { [UnsafeRawBufferPointer(start: rows, count: 4 * outputs * inputs)] }

    func multiply(_ x: UnsafePointer<Float>, m: Int, ldx: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int, beta: Float) {
        Matmul.linear(x, m: m, k: inputs, ldx: ldx, UnsafePointer(rows), n: outputs, out, ldo: ldo, beta: beta)
    }

    func dequantizeRow(_ j: Int, into row: UnsafeMutablePointer<Float>) {
        row.update(from: rows + j * inputs, count: inputs)
    }
}
