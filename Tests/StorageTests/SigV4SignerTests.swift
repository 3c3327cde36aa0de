import XCTest
import Hashing
@testable import Storage

/// The signer against AWS's published vectors: the aws-sig-v4-test-suite (example credentials
/// AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") and the S3 documentation's
/// GET Object example. Canonical request, string to sign and Authorization are compared
/// separately, so a failure says which step is wrong.
final class SigV4SignerTests: XCTestCase {
    let suiteSigner = SigV4Signer(
        credentials: S3Credentials(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    let suiteDate = utc("2015-08-30T12:36:00Z")
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    let scope = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
    let credential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

    private func check(_ signer: SigV4Signer, _ request: SigV4Signer.Request, at date: Date,
                       canonical: String?, stringToSign: String, authorization: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        var request = request
        let signed = signer.sign(&request, at: date)
        let canonicalRequest = signer.canonicalRequest(request)
        if let canonical { XCTAssertEqual(canonicalRequest, canonical, "canonical request", file: file, line: line) }
        XCTAssertEqual(signer.stringToSign(canonicalRequest: canonicalRequest, at: date), stringToSign,
                       "string to sign", file: file, line: line)
        XCTAssertEqual(signed, authorization, "Authorization", file: file, line: line)
    }

    func testGetVanilla() {
        check(suiteSigner,
              .init(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], payloadHash: emptyHash),
              at: suiteDate,
              canonical: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
              stringToSign: scope + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
              authorization: credential
                  + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testGetVanillaQueryOrderKeyCase() {
        check(suiteSigner,
              .init(method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")],
                    headers: [("Host", "example.amazonaws.com")], payloadHash: emptyHash),
              at: suiteDate,
              canonical: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                  + "host;x-amz-date\n\(emptyHash)",
              stringToSign: scope + "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
              authorization: credential
                  + "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testPostXWWWFormURLEncoded() {
        let body = Data("Param1=value1".utf8)
        let payloadHash = Digest.sha256(body).hexString
        XCTAssertEqual(payloadHash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        check(suiteSigner,
              .init(method: "POST", path: "/",
                    headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com")],
                    payloadHash: payloadHash),
              at: suiteDate,
              canonical: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
                  + "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\(payloadHash)",
              stringToSign: scope + "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
              authorization: credential + "SignedHeaders=content-type;host;x-amz-date, "
                  + "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    func testGetHeaderValueTrim() {
        var request = SigV4Signer.Request(
            method: "GET", path: "/",
            headers: [("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            payloadHash: emptyHash)
        let authorization = suiteSigner.sign(&request, at: suiteDate)
        XCTAssertEqual(suiteSigner.canonicalRequest(request),
                       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                           + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(emptyHash)")
        XCTAssertEqual(authorization, credential + "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                           + "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    /// post-sts-header-before: the session token is a signed header.
    func testSessionTokenIsSigned() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var signer = suiteSigner
        signer.credentials.sessionToken = token
        var request = SigV4Signer.Request(method: "POST", path: "/", headers: [("Host", "example.amazonaws.com")],
                                          payloadHash: emptyHash)
        let authorization = signer.sign(&request, at: suiteDate)
        XCTAssertTrue(request.headers.contains { $0.0 == "x-amz-security-token" && $0.1 == token })
        XCTAssertEqual(authorization, credential + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                           + "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
    }

    /// The S3 guide's "GET Object" example: the first 10 bytes of examplebucket/test.txt.
    func testS3GetObjectWithRangeExample() {
        let signer = SigV4Signer(
            credentials: S3Credentials(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        check(signer,
              .init(method: "GET", path: "/test.txt",
                    headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                              ("x-amz-content-sha256", emptyHash)],
                    payloadHash: emptyHash),
              at: utc("2013-05-24T00:00:00Z"),
              canonical: "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                  + "x-amz-content-sha256:\(emptyHash)\nx-amz-date:20130524T000000Z\n\n"
                  + "host;range;x-amz-content-sha256;x-amz-date\n\(emptyHash)",
              stringToSign: "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                  + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
              authorization: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                  + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                  + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    func testURIEncodingOfKeysAndQuery() {
        XCTAssertEqual(SigV4Signer.uriEncode("dir/a b+ü~.fits", keepSlash: true), "dir/a%20b%2B%C3%BC~.fits")
        XCTAssertEqual(SigV4Signer.uriEncode("a/b=c", keepSlash: false), "a%2Fb%3Dc")
        XCTAssertEqual(SigV4Signer.canonicalQuery([("prefix", "x/y"), ("list-type", "2"), ("uploads", "")]),
                       "list-type=2&prefix=x%2Fy&uploads=")
    }
}

func utc(_ text: String) -> Date {
    ISO8601DateFormatter().date(from: text)!
}
