import Foundation
import XCTest
import TestSupport
@testable import Storage

final class LocationAndSettingsTests: XCTestCase {
    func testParsesLocations() throws {
        XCTAssertEqual(try StoreLocation(parsing: "s3://bucket/images"), .s3(bucket: "bucket", prefix: "images/"))
        XCTAssertEqual(try StoreLocation(parsing: "s3://bucket/images/"), .s3(bucket: "bucket", prefix: "images/"))
        XCTAssertEqual(try StoreLocation(parsing: "s3://bucket"), .s3(bucket: "bucket", prefix: ""))
        XCTAssertEqual(try StoreLocation(parsing: "file:///data/run%201/"), .file(path: "/data/run 1"))
        XCTAssertEqual(try StoreLocation(parsing: "file://localhost/data"), .file(path: "/data"))
        XCTAssertEqual(try StoreLocation(parsing: "/data/./images/../cats"), .file(path: "/data/cats"))
        XCTAssertEqual(try StoreLocation(parsing: "out"),
                       .file(path: FileManager.default.currentDirectoryPath + "/out"))
        XCTAssertEqual(StoreLocation.s3(bucket: "b", prefix: "p/").appending("x.fits").description, "s3://b/p/x.fits")
        XCTAssertEqual(StoreLocation.file(path: "/d").appending("x.fits").description, "/d/x.fits")
        for bad in ["", "s3://", "s3://B!/x", "http://host/x", "file://otherhost/data"] {
            XCTAssertThrowsError(try StoreLocation(parsing: bad), bad) { error in
                XCTAssertEqual((error as? StorageError)?.kind, .invalidArgument)
                XCTAssertTrue("\(error)".contains("invalid location"), "\(error)")
            }
        }
    }

    func testReadsSettingsWithDefaultsAndRejectsBadValues() throws {
        let defaults = try S3Settings(settings: [:], environment: [:])
        XCTAssertEqual(defaults.endpoint.absoluteString, "https://s3.us-east-1.amazonaws.com")
        XCTAssertFalse(defaults.pathStyle)
        XCTAssertEqual(defaults.multipartThreshold, 64 << 20)
        XCTAssertEqual(defaults.partSize, 16 << 20)
        XCTAssertEqual(try S3Settings(settings: [:], environment: ["AWS_REGION": "eu-west-1"]).endpoint.absoluteString,
                       "https://s3.eu-west-1.amazonaws.com")

        let fromEnvironment = try S3Settings(settings: [:], environment: ["AWS_ENDPOINT_URL": "http://minio:9000"])
        XCTAssertEqual(fromEnvironment.endpoint.absoluteString, "http://minio:9000")
        XCTAssertTrue(fromEnvironment.pathStyle)

        let custom = try S3Settings(settings: [
            "sextant.s3.endpoint": "http://127.0.0.1:9000", "sextant.s3.partSize": "8MB",
            "sextant.s3.multipartThreshold": "1g", "sextant.s3.maxRetries": "2", "sextant.s3.pathStyle": "false",
        ], environment: [:])
        XCTAssertEqual(custom.partSize, 8 << 20)
        XCTAssertEqual(custom.multipartThreshold, 1 << 30)
        XCTAssertEqual(custom.maxRetries, 2)
        XCTAssertFalse(custom.pathStyle)
        XCTAssertTrue(try S3Settings(settings: ["sextant.s3.endpoint": "http://x:1"], environment: [:]).pathStyle)

        for (key, value) in [("endpoint", "ftp://x"), ("partSize", "1m"), ("maxRetries", "many"), ("pathStyle", "maybe"),
                             ("accessKey", "only-the-key")] {
            XCTAssertThrowsError(try S3Settings(settings: ["sextant.s3." + key: value], environment: [:])) { error in
                XCTAssertTrue("\(error)".hasPrefix("configuration key sextant.s3.\(key):"), "\(error)")
                XCTAssertFalse("\(error)".contains("only-the-key"), "a credential is never echoed: \(error)")
            }
        }
    }

    func testFindsCredentialsInAWSCLIOrder() throws {
        let dir = try TestSupport.makeTemporaryDirectory("aws-credentials")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("credentials")
        try """
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultsecret
        # a comment
        [survey]
        aws_access_key_id=SURVEYKEY
        aws_secret_access_key=surveysecret
        aws_session_token=surveytoken
        """.write(to: file, atomically: true, encoding: .utf8)
        let conf = ["sextant.s3.accessKey": "CONFKEY", "sextant.s3.secretKey": "confsecret"]
        func resolve(_ environment: [String: String], _ settings: [String: String] = conf) throws -> S3Credentials {
            try CredentialChain.resolve(settings: S3Settings(settings: settings, environment: environment),
                                        environment: environment, location: "s3://b/")
        }

        let fromEnvironment = try resolve(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret",
                                           "AWS_SESSION_TOKEN": "envtoken", "AWS_SHARED_CREDENTIALS_FILE": file.path])
        XCTAssertEqual([fromEnvironment.accessKey, fromEnvironment.secretKey, fromEnvironment.sessionToken], ["ENVKEY", "envsecret", "envtoken"])
        XCTAssertEqual(try resolve(["AWS_SHARED_CREDENTIALS_FILE": file.path]).accessKey, "DEFAULTKEY")
        let survey = try resolve(["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "survey"])
        XCTAssertEqual([survey.accessKey, survey.secretKey, survey.sessionToken], ["SURVEYKEY", "surveysecret", "surveytoken"])
        XCTAssertEqual(try resolve(["HOME": dir.path]).accessKey, "CONFKEY", "no ~/.aws/credentials under this HOME")
        XCTAssertEqual(try resolve(["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "absent"]).accessKey, "CONFKEY")
        XCTAssertThrowsError(try resolve(["HOME": dir.path], [:])) { error in
            XCTAssertTrue("\(error)".hasPrefix("s3://b/: no S3 credentials"), "\(error)")
        }
    }
}
