// Command beckon-bench measures Beckon's hot paths on this machine and
// prints one table, each figure beside a baseline measured in the same run
// (`make bench`). The machine may be shared and noisy, so the ratios are
// what to read; BENCHMARKS.md keeps the latest table and its history.
//
//	go run ./cmd/beckon-bench [-quick] [-only engine,eval,processor,ingest,e2e,memory]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beckon-chat/beckon/rules"
)

// stages in the order they run: one at a time, each closing its servers
// before the next starts, so that no stage competes with another for the
// machine's cores.
var stages = []struct {
	name string
	run  func(ctx context.Context, b *bench) ([]row, error)
}{
	{"engine", runEngine},
	{"eval", runEval},
	{"processor", runProcessor},
	{"ingest", runIngest},
	{"e2e", runE2E},
	{"memory", runMemory},
}

// sizes are how much each stage does.
type sizes struct {
	EngineEvents    int           // traffic the engine loops over
	EngineBenchtime time.Duration // testing.Benchmark's target time
	EvalEvents      int           // lines of the eval recording
	EvalRuns        int           // best of
	ProcEvents      int           // events pre-filled in the partitioned stream
	IngestFor       time.Duration // per measurement of the ingest stage
	IngestClients   int           // concurrent keep-alive clients
	E2ERate         int           // offered events/s
	E2EFor          time.Duration // how long the load runs
	MemVisitors     int           // visitors of the memory stage
}

var (
	fullSizes = sizes{
		EngineEvents: 500_000, EngineBenchtime: 8 * time.Second,
		EvalEvents: 1_000_000, EvalRuns: 3,
		ProcEvents: 300_000,
		IngestFor:  4 * time.Second, IngestClients: 64,
		E2ERate: 10_000, E2EFor: 15 * time.Second,
		MemVisitors: 1_000_000,
	}
	quickSizes = sizes{
		EngineEvents: 50_000, EngineBenchtime: 500 * time.Millisecond,
		EvalEvents: 100_000, EvalRuns: 1,
		ProcEvents: 30_000,
		IngestFor:  time.Second, IngestClients: 32,
		E2ERate: 2_000, E2EFor: 3 * time.Second,
		MemVisitors: 100_000,
	}
)

// bench is one run's settings.
type bench struct {
	sizes
	rules    *rules.Set
	rulesSrc string
	log      *slog.Logger // progress, on stderr
	tmp      string       // scratch directory for the embedded servers
}

// row is one line of the table.
type row struct {
	Stage    string
	Metric   string
	Value    string
	Baseline string // "what: figure"
	Ratio    string
	Target   string
	Status   string // met, MISSED or "" when there is no target
}

func main() {
	quick := flag.Bool("quick", false, "smaller sizes, for a smoke run")
	only := flag.String("only", "", "comma-separated stages to run (engine,eval,processor,ingest,e2e,memory); default all")
	rulesPath := flag.String("rules", "deploy/rules/bench.yaml", "rules of the engine, eval and processor stages")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "beckon-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	sz := fullSizes
	if *quick {
		sz = quickSizes
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rowsOut, err := run(context.Background(), sz, *rulesPath, *only, log)
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "beckon-bench:", err)
		os.Exit(1)
	}
	cmd := "go run ./cmd/beckon-bench " + strings.Join(os.Args[1:], " ")
	printTable(os.Stdout, strings.TrimSpace(cmd), rowsOut)
}

// run runs the selected stages in order and returns their rows.
func run(ctx context.Context, sz sizes, rulesPath, only string, log *slog.Logger) ([]row, error) {
	set, err := rules.Load(rulesPath)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	for s := range want {
		if !known(s) {
			return nil, fmt.Errorf("-only: unknown stage %q", s)
		}
	}
	tmp, err := os.MkdirTemp("", "beckon-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	b := &bench{sizes: sz, rules: set, rulesSrc: rulesPath, log: log, tmp: tmp}
	var out []row
	for _, st := range stages {
		if len(want) > 0 && !want[st.name] {
			continue
		}
		log.Info("stage", "name", st.name)
		start := time.Now()
		rs, err := st.run(ctx, b)
		if err != nil {
			return out, fmt.Errorf("%s: %w", st.name, err)
		}
		log.Info("stage done", "name", st.name, "took", time.Since(start).Round(time.Millisecond))
		out = append(out, rs...)
		runtime.GC()
	}
	return out, nil
}

func known(name string) bool {
	for _, s := range stages {
		if s.name == name {
			return true
		}
	}
	return false
}

func printTable(w io.Writer, cmd string, rows []row) {
	fmt.Fprintf(w, "beckon-bench %s, %s/%s, %s, %d CPUs (GOMAXPROCS %d)\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "%s, `%s`\n\n", runtime.Version(), cmd)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| stage\t| metric\t| value\t| baseline (same run)\t| ratio\t| target\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, r := range rows {
		target := r.Target
		if r.Status != "" {
			target += " " + r.Status
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", r.Stage, r.Metric, r.Value, r.Baseline, r.Ratio, target)
	}
	tw.Flush()
}

// cpuModel is lscpu's model name, or the architecture when lscpu is absent.
func cpuModel() string {
	out, err := exec.Command("lscpu").Output()
	if err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// status says whether a target is met.
func status(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func ratio(x, base float64) string {
	if base == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", x/base)
}

// si formats a rate with a k or M suffix.
func si(v float64, unit string) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM %s", v/1e6, unit)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk %s", v/1e3, unit)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}
