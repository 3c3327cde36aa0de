import ArgumentParser

@main
struct Sextant: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant",
        abstract: "Source extraction on FITS images, on one machine or a cluster.",
        subcommands: [
            ExtractCommand.self, RunCommand.self, SubmitCommand.self, StatusCommand.self, CancelCommand.self,
            MasterCommand.self, ExecutorCommand.self, DatasetsCommand.self, BenchCommand.self,
            ConfCommand.self, CredentialCommand.self, VerifyCommand.self, WorkerCommand.self, UsersCommand.self,
            MergeCommand.self,
            StreamCommand.self,
        ])

    static func main() {
        HeapTuning.reuseImageBuffers()
        if let forExecutor = WorkerCommand.launchedAs(CommandLine.arguments.dropFirst()) {
            WorkerCommand.serve(forExecutor: forExecutor)
        }
        main(nil)
    }
}
