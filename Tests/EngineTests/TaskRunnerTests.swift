import TestSupport
import XCTest
@testable import Engine

struct Scale: MapOperator {
    struct Parameters: Codable { var factor: Int }
    static let name = "test.scale"
    let factor: Int
    init(parameters: Parameters) { factor = parameters.factor }
    func map(_ input: Int, context: TaskContext) throws -> Int { input * factor }
}

struct ParseInt: MapOperator {
    typealias Parameters = NoParameters
    static let name = "test.parse-int"
    init(parameters: NoParameters) {}
    func map(_ input: String, context: TaskContext) throws -> Int {
        guard let value = Int(input) else { throw TestFailure("not a number: \(input)") }
        return value
    }
}

struct KeepEven: FilterOperator {
    typealias Input = Int
    static let name = "test.keep-even"
    init(parameters: NoParameters) {}
    func includes(_ input: Int, context: TaskContext) throws -> Bool { input % 2 == 0 }
}

struct Repeat: FlatMapOperator {
    struct Parameters: Codable { var times: Int }
    static let name = "test.repeat"
    let times: Int
    init(parameters: Parameters) { times = parameters.times }
    func flatMap(_ input: Int, context: TaskContext) throws -> [Int] { Array(repeating: input, count: times) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func step<Op: PartitionOperator>(_ type: Op.Type, _ parameters: Op.Parameters) -> OperatorStep {
    OperatorStep(name: Op.name, parameters: try! JSONEncoder().encode(parameters))
}

func testRegistry() -> OperatorRegistry {
    let registry = OperatorRegistry()
    registry.register(Scale.self)
    registry.register(ParseInt.self)
    registry.register(KeepEven.self)
    registry.register(Repeat.self)
    return registry
}

final class TaskRunnerTests: XCTestCase {
    let id = TaskAttemptID(jobID: "j", partition: 3, attempt: 7)

    func decodeInts(_ result: TaskResult) throws -> [Int] {
        guard case let .success(records) = result.outcome else {
            XCTFail("expected success, got \(result.outcome)"); return []
        }
        return try records.map { try JSONDecoder().decode(Int.self, from: $0) }
    }

    func testChainsStepsInMemoryAndEncodesTheLast() throws {
        let spec = TaskSpec(id: id, inputs: ["1", "2", "3", "4"],
                            steps: [step(ParseInt.self, NoParameters()), step(KeepEven.self, NoParameters()),
                                    step(Repeat.self, .init(times: 2)), step(Scale.self, .init(factor: 10))])
        let result = TaskRunner(registry: testRegistry()).run(spec, executor: "e1")
        XCTAssertEqual(try decodeInts(result), [20, 20, 40, 40])
        XCTAssertEqual(result.id, id)
        XCTAssertEqual(result.executor, "e1")
    }

    func testNoStepsReturnsTheInputsAsJSONStrings() throws {
        let result = TaskRunner(registry: testRegistry()).run(TaskSpec(id: id, inputs: ["a", "b"], steps: []),
                                                            executor: "e")
        guard case let .success(records) = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertEqual(try records.map { try JSONDecoder().decode(String.self, from: $0) }, ["a", "b"])
    }

    func testFirstStepWithNonStringInputReadsJSON() throws {
        let spec = TaskSpec(id: id, inputs: ["5", "6"], steps: [step(Scale.self, .init(factor: 3))])
        XCTAssertEqual(try decodeInts(TaskRunner(registry: testRegistry()).run(spec, executor: "e")), [15, 18])
    }

    func testThrownErrorsBecomeFailuresWithTheMessage() {
        let spec = TaskSpec(id: id, inputs: ["1", "x"], steps: [step(ParseInt.self, NoParameters())])
        let result = TaskRunner(registry: testRegistry()).run(spec, executor: "e")
        guard case let .failure(message) = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertEqual(message, "not a number: x")
    }

    func testUnknownOperatorAndBadParametersAreClearFailures() {
        let runner = TaskRunner(registry: testRegistry())
        let unknown = runner.run(TaskSpec(id: id, inputs: ["1"], steps: [OperatorStep(name: "nope", parameters: Data())]),
                                 executor: "e")
        guard case let .failure(message) = unknown.outcome else { return XCTFail() }
        XCTAssertTrue(message.contains("unknown operator 'nope'"), message)
        XCTAssertTrue(message.contains("test.scale"), message)

        let bad = runner.run(TaskSpec(id: id, inputs: ["1"],
                                      steps: [OperatorStep(name: Scale.name, parameters: Data("{}".utf8))]),
                             executor: "e")
        guard case let .failure(badMessage) = bad.outcome else { return XCTFail() }
        XCTAssertTrue(badMessage.contains("operator 'test.scale': cannot decode its parameters"), badMessage)
    }

    func testTypeMismatchBetweenStepsIsAFailureNotACrash() {
        // ParseInt wants String but gets the Ints that Scale produced.
        let spec = TaskSpec(id: id, inputs: ["1"], steps: [step(Scale.self, .init(factor: 1)),
                                                          step(ParseInt.self, NoParameters())])
        guard case let .failure(message) = TaskRunner(registry: testRegistry()).run(spec, executor: "e").outcome
        else { return XCTFail() }
        XCTAssertTrue(message.contains("expects records of type String but got Int"), message)
    }

    func testClosureOperatorsAndCancellation() {
        let registry = OperatorRegistry()
        let started = DispatchSemaphore(value: 0)
        registry.register("test.wait-for-cancel", input: String.self, output: String.self) { inputs, context in
            started.signal()
            while !context.isCancelled { usleep(1000) }
            try context.checkCancellation()
            return inputs
        }
        let runner = TaskRunner(registry: registry)
        let spec = TaskSpec(id: id, inputs: ["a"], steps: [OperatorStep(name: "test.wait-for-cancel", parameters: Data())])
        let result = Locked<TaskResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { result.value = runner.run(spec, executor: "e"); done.signal() }
        started.wait()
        runner.cancel(id)
        done.wait()
        guard case let .failure(message) = result.value?.outcome else { return XCTFail() }
        XCTAssertTrue(message.contains("cancelled"), message)
        XCTAssertFalse(runner.isCancelled(id), "a finished attempt leaves no cancellation behind")
    }
}

