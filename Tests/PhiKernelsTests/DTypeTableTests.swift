import CPhiKernels
import PhiKernels
import XCTest

/// Swift's DType against the one C table of types (CPhiTypes.h): both list the same weight types, with the same
/// names, ids, block sizes and bytes; every row with products has its whole kernel column.
final class DTypeTableTests: XCTestCase {
    func rows() -> [phi_type_traits] {
        (0..<phi_type_traits_count()).compactMap { phi_type_traits_at($0)?.pointee }
    }

    func testEveryWeightRowHasOneSwiftCaseAndBack() {
        let table = rows()
        XCTAssertGreaterThan(table.count, 0)
        let weightRows = table.filter { $0.weight != 0 }
        XCTAssertEqual(Set(weightRows.map { String(cString: $0.name) }), Set(DType.allCases.map(\.rawValue)))
        for row in weightRows {
            let name = String(cString: row.name)
            guard let dtype = DType(rawValue: name) else { XCTFail("no DType case for C row \(name)"); continue }
            XCTAssertEqual(dtype.ggmlType, Int(row.type), name)
            XCTAssertEqual(dtype.id, Int32(row.type), name)
            XCTAssertEqual(dtype.blockElements, Int(row.block_elements), name)
            XCTAssertEqual(dtype.blockBytes, Int(row.block_bytes), name)
            XCTAssertEqual(DType(ggmlType: Int(row.type)), dtype, name)
            XCTAssertEqual(dtype.hasQuantizedProducts, row.vec_dot_ref != nil, name)
            XCTAssertEqual(phi_quant_block_bytes(dtype.id), Int64(dtype.blockBytes), name)
        }
    }

    func testRowsAreConsistent() {
        var ids = Set<Int32>()
        for row in rows() {
            let name = String(cString: row.name)
            XCTAssertTrue(ids.insert(row.type).inserted, "duplicate id \(row.type)")
            XCTAssertTrue(phi_type_traits_of(row.type) != nil, name)
            XCTAssertGreaterThan(row.block_elements, 0, name)
            XCTAssertGreaterThan(row.block_bytes, 0, name)
            XCTAssertNotNil(row.dequantize, name)
            guard row.vec_dot_ref != nil else { continue }
            // A type with products has the whole reference column and a panel layout.
            XCTAssertNotNil(row.act_row_ref, name)
            XCTAssertNotNil(row.repack_block, name)
            XCTAssertNotNil(row.unpack_block, name)
            XCTAssertGreaterThan(row.panel_block_bytes, 0, name)
            XCTAssertNotEqual(row.act_kind, PHI_ACT_NONE, name)
            XCTAssertEqual(row.block_elements % row.act_block, 0, name)
            XCTAssertEqual(phi_quant_check(row.type, row.block_elements), 0, name)
        }
        XCTAssertTrue(phi_type_traits_of(-1) == nil)
        XCTAssertTrue(phi_type_traits_of(99) == nil)
    }
}
