import Foundation

/// The REST API's OpenAPI 3 document, served at `GET /api/v1/openapi.json` (no login needed to read it).
enum OpenAPI {
    static let document: String = {
        let id: [String: Any] = ["name": "id", "in": "path", "required": true,
                                 "schema": ["type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"]]
        let error: [String: Any] = ["description": "what went wrong",
                                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        func json(_ description: String, _ schema: [String: Any]) -> [String: Any] {
            ["description": description, "content": ["application/json": ["schema": schema]]]
        }
        func file(_ description: String, _ type: String) -> [String: Any] {
            ["description": description, "content": [type: ["schema": ["type": "string", "format": "binary"]]]]
        }
        func get(_ summary: String, _ responses: [String: Any], parameters: [[String: Any]] = [id]) -> [String: Any] {
            ["get": ["summary": summary, "parameters": parameters,
                     "responses": responses.merging(["401": error, "404": error]) { a, _ in a }]]
        }
        let summary: [String: Any] = ["$ref": "#/components/schemas/JobSummary"]
        let paths: [String: Any] = [
            "/api/v1/whoami": get("The signed-in user", ["200": json("name and role", ["type": "object"])], parameters: []),
            "/api/v1/jobs": [
                "get": ["summary": "The jobs the user may see (an admin: all)", "responses": [
                    "200": json("job table", ["type": "array", "items": summary]), "401": error]],
                "post": ["summary": "Submit a job (the same semantics as `sextant submit`)",
                         "requestBody": ["required": true, "content": ["application/json": [
                            "schema": ["$ref": "#/components/schemas/JobRequest"]]]],
                         "responses": ["201": json("queued", ["type": "object", "required": ["id"],
                                                               "properties": ["id": ["type": "string"]]]),
                                       "400": error, "401": error]],
            ],
            "/api/v1/jobs/{id}": get("One job: progress, failures, slowest tasks, executors",
                                     ["200": json("job detail", ["type": "object"])]),
            "/api/v1/jobs/{id}/tasks": get("Every task attempt (the timeline)", ["200": json("attempts", ["type": "array"])]),
            "/api/v1/jobs/{id}/cancel": ["post": ["summary": "Cancel a queued or running job", "parameters": [id],
                                                  "responses": ["202": json("cancelling", ["type": "object"]),
                                                                "401": error, "404": error, "409": error]]],
            "/api/v1/jobs/{id}/manifest": get("The job's _manifest.jsonl", ["200": file("one JSON line per input", "application/x-ndjson")]),
            "/api/v1/jobs/{id}/log": get("The job's event log", ["200": file("one JSON event per line", "application/x-ndjson")]),
            "/api/v1/jobs/{id}/catalogs": get("The committed catalogs' names", ["200": json("names", ["type": "array", "items": ["type": "string"]])]),
            "/api/v1/jobs/{id}/catalogs.tar": get("Every committed catalog as one tar stream", ["200": file("tar", "application/x-tar")]),
            "/api/v1/jobs/{id}/catalogs/{name}": get("One catalog", ["200": file("the catalog", "application/octet-stream")],
                                                     parameters: [id, ["name": "name", "in": "path", "required": true,
                                                                       "schema": ["type": "string"]]]),
            "/api/v1/executors": ["get": ["summary": "The executors", "responses": [
                "200": json("executors", ["type": "array"]), "401": error]]],
        ]
        let doc: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "Sextant master", "version": "1",
                     "description": "Jobs, their progress and their files. Authenticate with a token from `sextant users add` as `Authorization: Bearer TOKEN`."],
            "paths": paths,
            "security": [["bearer": []]],
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "schemas": [
                    "Error": ["type": "object", "properties": ["error": ["type": "string"]]],
                    "JobSummary": ["type": "object", "required": ["id", "status"], "properties": [
                        "id": ["type": "string"], "status": ["type": "string"], "message": ["type": "string"],
                        "inputsTotal": ["type": "integer"], "inputsDone": ["type": "integer"],
                        "inputsFailed": ["type": "integer"], "sources": ["type": "integer"]]],
                    "JobRequest": ["type": "object", "required": ["inputs", "output"], "properties": [
                        "inputs": ["type": "array", "items": ["type": "string"],
                                   "description": "files, directories, globs or s3:// prefixes the master can read"],
                        "output": ["type": "string", "description": "directory or s3:// prefix (`--out`)"],
                        "jobID": ["type": "string"], "format": ["type": "string"],
                        "parameters": ["type": "object", "additionalProperties": ["type": "string"],
                                       "description": "`sextant submit`'s extraction flags without dashes, e.g. threshold, minarea"],
                        "sexConfig": ["type": "string", "description": "a .sex file's text"],
                        "paramFile": ["type": "string", "description": "a .param file's text"],
                        "pool": ["type": "string", "description": "the fair-scheduler pool"],
                        "uploads": ["type": "object", "additionalProperties": ["type": "string", "format": "byte"],
                                    "description": "FITS files by name, base64"]]],
                ],
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }()
}
