// What SExtractor's FLAGS cost on the default columns: the same image extracted with the
// default columns (FLAGS: crowding over the segmentation) and with the same columns without
// FLAGS, alternately, in thread CPU time. Compiled with Sources/Extraction by scripts/bench/flags-cost.
// usage: flags-cost PIXELS.f32 WIDTH HEIGHT ITERATIONS
import Foundation
@main
struct FlagBench {
    static func cpu() -> Double { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
    static func main() throws {
        let a = CommandLine.arguments
        let data = try Data(contentsOf: URL(fileURLWithPath: a[1]))
        let pixels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let image = try SkyImage(width: Int(a[2])!, height: Int(a[3])!, pixels: pixels)
        let all = ColumnSelection.standard
        let names = ["NUMBER","X_IMAGE","Y_IMAGE","X2_IMAGE","Y2_IMAGE","XY_IMAGE","A_IMAGE","B_IMAGE","THETA_IMAGE","CXX_IMAGE","CYY_IMAGE","CXY_IMAGE","ISOAREA_IMAGE","FLUX_ISO","FLUX_MAX","XMIN_IMAGE","YMIN_IMAGE","XMAX_IMAGE","YMAX_IMAGE","FLUX_APER","FLUXERR_APER","KRON_RADIUS","FLUX_AUTO","FLUXERR_AUTO","FLUX_RADIUS","XWIN_IMAGE","YWIN_IMAGE"]
        let noFlags = try ColumnSelection(list: names.joined(separator: ","))
        let extractor = try Extractor()
        var with: [Double] = [], without: [Double] = []
        for _ in 0..<Int(a[4])! {
            var t = cpu(); _ = try extractor.extract(image, columns: all); with.append(cpu() - t)
            t = cpu(); _ = try extractor.extract(image, columns: noFlags); without.append(cpu() - t)
        }
        with.sort(); without.sort()
        print(String(format: "default (FLAGS) cpu median %.1f ms min %.1f; without FLAGS median %.1f min %.1f; FLAGS cost median %+.1f%% min %+.1f%%",
                     with[with.count/2]*1000, with[0]*1000, without[without.count/2]*1000, without[0]*1000,
                     (with[with.count/2]/without[without.count/2]-1)*100, (with[0]/without[0]-1)*100))
    }
}
