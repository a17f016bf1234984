package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/telefonagent/gateway/scripts/internal/callsim"
	"github.com/telefonagent/gateway/scripts/internal/devstack"
	"github.com/telefonagent/gateway/shared/catalog"
	"github.com/telefonagent/gateway/shared/pii"
	"github.com/telefonagent/gateway/shared/retell"
	"github.com/telefonagent/gateway/shared/testenv"
)

// RIEModule is the emulator TOOLING.md names; it is built once per run.
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// buildRIE installs the emulator into a temporary directory.
func buildRIE(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "gwbench-rie-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "go", "install", RIEModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building the Lambda emulator: %v\n%s", err, out)
	}
	return filepath.Join(dir, "aws-lambda-rie"), cleanup, nil
}

var elfArch = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}

// inspectBootstrap returns the architecture and the zipped size.
func inspectBootstrap(path string) (arch string, size, zipped int64, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", 0, 0, err
	}
	arch = elfArch[f.Machine]
	if arch == "" {
		arch = f.Machine.String()
	}
	f.Close()
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, 0, err
	}
	// The deployment zip, as CDK builds it: one deflated file.
	src, err := os.Open(path)
	if err != nil {
		return "", 0, 0, err
	}
	defer src.Close()
	var cw countingWriter
	zw := zip.NewWriter(&cw)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if err == nil {
		err = zw.Close()
	}
	return arch, st.Size(), cw.n, err
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// coldEnv is the loopback world the built functions start in: Secrets
// Manager and SQS on moto_server (the AWS emulator `make services` starts),
// the bench database, Redis and the sandbox.
type coldEnv struct {
	sm      *secretsmanager.Client
	secrets []string // ids created on moto, deleted by close
	env     []string
}

func newColdEnv(ctx context.Context, sys *system) (*coldEnv, error) {
	if err := testenv.CheckMoto(ctx); err != nil {
		return nil, err
	}
	endpoint := testenv.MotoURL()
	cfg := testenv.AWSConfig(endpoint)
	ce := &coldEnv{sm: secretsmanager.NewFromConfig(cfg)}
	// moto is shared with the tests: every name is unique to this run.
	prefix := testenv.UniqueName("bench") + "/"
	ids := map[string]string{}
	for name, value := range map[string]string{
		"retell": sys.apiKey, "calhook": devstack.DefaultWebhookSecret, "calkey": devstack.DefaultCalcomAPIKey,
		"pii": string(pii.DevSecretJSON()),
	} {
		out, err := ce.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + name), SecretString: aws.String(value)})
		if err != nil {
			ce.close()
			return nil, fmt.Errorf("creating secret %s on moto: %w", name, err)
		}
		ce.secrets = append(ce.secrets, aws.ToString(out.ARN))
		ids[name] = prefix + name
	}
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.UniqueName("bench-jobs"))})
	if err != nil {
		ce.close()
		return nil, fmt.Errorf("creating the queue on moto: %w", err)
	}
	ce.env = []string{
		"STAGE=dev", "AWS_REGION=" + testenv.AWSRegion, "AWS_ACCESS_KEY_ID=" + testenv.AWSAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + testenv.AWSSecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_XRAY_SDK_DISABLED=true", "AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR",
		// Every AWS call goes to moto on loopback.
		"AWS_ENDPOINT_URL=" + endpoint,
		"MYSQL_DSN=" + sys.dsn, "REDIS_ADDR=" + sys.redis, "REDIS_KEY_PREFIX=" + sys.prefix, "QUEUE_URL=" + aws.ToString(q.QueueUrl),
		"CALCOM_BASE_URL=" + sys.st.Sandbox.URL(), "RETELL_API_KEY_SECRET_ID=" + ids["retell"], "CALCOM_WEBHOOK_SECRET_ID=" + ids["calhook"],
		"CALCOM_API_KEY_SECRET_ID=" + ids["calkey"], "PII_KEYS_SECRET_ID=" + ids["pii"],
	}
	return ce, nil
}

// close deletes what newColdEnv created on moto (the queue is left: moto
// forgets it on restart and nothing reads it).
func (c *coldEnv) close() {
	for _, id := range c.secrets {
		_, _ = c.sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
	}
}

// event is the first invocation a function gets: one that needs its
// dependencies, but no network beyond loopback.
func (b *bench) event(fn catalog.Function) []byte {
	proxy := func(method, path, body string, hdr map[string]string) []byte {
		ev := map[string]any{"resource": path, "path": path, "httpMethod": method, "headers": hdr, "body": body,
			"requestContext": map[string]any{"requestId": callsim.RandomID(8), "stage": "bench", "httpMethod": method, "path": path,
				"identity": map[string]any{"sourceIp": "127.0.0.1"}}}
		out, _ := json.Marshal(ev)
		return out
	}
	signed := func(path string, body []byte) []byte {
		return proxy("POST", path, string(body), map[string]string{"Content-Type": "application/json",
			retell.SignatureHeader: retell.Sign(body, b.sys.apiKey, time.Now().UnixMilli())})
	}
	now := time.Now().UnixMilli()
	call := retell.Call{CallID: callsim.NewCallID("call_cold"), CallType: "phone_call", Direction: "inbound",
		FromNumber: callsim.RandomMobile(), ToNumber: b.sys.to, StartTimestamp: now}
	switch {
	case fn.Name == "health":
		return proxy("GET", "/liveness", "", map[string]string{})
	case fn.InCall && fn.Name != "retell-inbound":
		body, _ := json.Marshal(map[string]any{"name": strings.ReplaceAll(fn.Name, "-", "_"), "call": call, "args": map[string]string{}})
		return signed(fn.Routes[0].Path, body)
	case fn.Name == "retell-inbound":
		body, _ := json.Marshal(retell.InboundEvent{Event: retell.EventCallInbound, EventTimestamp: now,
			CallInbound: retell.CallInbound{FromNumber: call.FromNumber, ToNumber: b.sys.to}})
		return signed(fn.Routes[0].Path, body)
	case fn.Name == "retell-events":
		body, _ := json.Marshal(retell.WebhookEvent{Event: retell.EventCallStarted, Call: call})
		return signed(fn.Routes[0].Path, body)
	case fn.Trigger == catalog.TriggerHTTP:
		// Unsigned/unauthorised: answered 401/403 once the function is up.
		r := fn.Routes[0]
		path := strings.NewReplacer("{tenant}", "salon-sonnenschein", "{id}", "1").Replace(r.Path)
		return proxy(r.Method, path, "{}", map[string]string{"Content-Type": "application/json"})
	case fn.Trigger == catalog.TriggerSQS:
		return []byte(`{"Records":[]}`)
	}
	return []byte(`{}`)
}

var (
	initRE   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	reportRE = regexp.MustCompile(`REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms`)
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type coldRun struct {
	coldMS, initMS, wallMS float64
	status                 string
	rssKB                  int64
	logs                   string
}

// coldStart starts the emulator with one bootstrap, invokes it once cold
// and twice warm, and reads the emulator's own timing of the cold one.
func (b *bench) coldStart(ctx context.Context, rie, bootstrap string, fn catalog.Function, env []string) (coldRun, error) {
	port, err := freePort()
	if err != nil {
		return coldRun{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logs := &lockedBuf{}
	if abs, err := filepath.Abs(bootstrap); err == nil {
		bootstrap = abs // cmd.Dir below changes the working directory
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=" + fn.Name}, env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the emulator and its bootstrap stop together
	if err := cmd.Start(); err != nil {
		return coldRun{}, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return coldRun{}, fmt.Errorf("emulator did not listen: %s", truncate(logs.String(), 400))
		}
		time.Sleep(5 * time.Millisecond)
	}
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	client := &http.Client{Timeout: 30 * time.Second}
	invoke := func() (string, time.Duration, error) {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(b.event(fn)))
		if err != nil {
			return "", 0, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return describeAnswer(resp.StatusCode, body), time.Since(start), nil
	}
	status, wall, err := invoke()
	if err != nil {
		return coldRun{}, fmt.Errorf("first invoke: %v; logs: %s", err, truncate(logs.String(), 400))
	}
	for i := 0; i < 2; i++ {
		if _, _, err := invoke(); err != nil {
			return coldRun{}, err
		}
	}
	out := logs.String()
	run := coldRun{wallMS: ms(wall), status: status, rssKB: childPeakRSS(cmd.Process.Pid), logs: out}
	if m := initRE.FindStringSubmatch(out); m != nil {
		run.initMS, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reportRE.FindStringSubmatch(out); m != nil {
		run.coldMS, _ = strconv.ParseFloat(m[1], 64)
	} else {
		run.coldMS = run.wallMS
	}
	return run, nil
}

// describeAnswer names what a first invocation answered, without bodies.
// answered tells whether the function itself answered: any HTTP status of
// an API Gateway response, or a 200 invoke of a non-HTTP function.
func answered(status string) bool {
	return strings.HasPrefix(status, "HTTP ") || strings.HasPrefix(status, "invoke 200")
}

func describeAnswer(status int, body []byte) string {
	var proxy struct {
		StatusCode   int    `json:"statusCode"`
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	_ = json.Unmarshal(body, &proxy)
	switch {
	case proxy.StatusCode != 0:
		return "HTTP " + strconv.Itoa(proxy.StatusCode)
	case proxy.ErrorType != "" || proxy.ErrorMessage != "":
		return "function error: " + truncate(proxy.ErrorMessage, 80)
	}
	return fmt.Sprintf("invoke %d, %d bytes", status, len(body))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childPeakRSS finds the emulator's child (the bootstrap) and reads its
// peak resident memory.
func childPeakRSS(parent int) int64 {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return n
			}
		}
	}
	return 0
}

// measureBootstraps sizes every built function and cold-starts those built
// for this machine.
func (b *bench) measureBootstraps(ctx context.Context) []Bootstrap {
	var out []Bootstrap
	var rie string
	var env *coldEnv
	for _, fn := range catalog.All() {
		path := filepath.Join(b.opts.distDir, fn.Name, "bootstrap")
		bs := Bootstrap{Function: fn.Name, Path: path, Job: fn.Trigger != catalog.TriggerHTTP && fn.Trigger != catalog.TriggerSQS}
		arch, size, zipped, err := inspectBootstrap(path)
		if err != nil {
			bs.Note = "not built (make build-local)"
			out = append(out, bs)
			continue
		}
		bs.Arch, bs.SizeBytes, bs.ZipBytes = arch, size, zipped
		switch {
		case b.opts.coldRuns <= 0:
			bs.Note = "cold start not measured (--coldstart-runs 0)"
		case arch != runtime.GOARCH:
			bs.Note = fmt.Sprintf("cold start not measured: a linux/%s binary does not run here (make build-local)", arch)
		case ctx.Err() != nil:
			bs.Note = "cold start not measured: time limit"
		default:
			if rie == "" {
				b.logf("building the Lambda runtime interface emulator…")
				p, cleanup, err := buildRIE(ctx)
				if err != nil {
					b.logf("%v", err)
					b.opts.coldRuns = 0
					bs.Note = "cold start not measured: emulator build failed"
					out = append(out, bs)
					continue
				}
				defer cleanup()
				if env, err = newColdEnv(ctx, b.sys); err != nil {
					cleanup()
					b.logf("%v", err)
					b.opts.coldRuns = 0
					bs.Note = "cold start not measured: " + truncate(err.Error(), 120)
					out = append(out, bs)
					continue
				}
				defer env.close()
				rie = p
			}
			b.coldStarts(ctx, rie, path, fn, env.env, &bs)
		}
		out = append(out, bs)
	}
	return out
}

func (b *bench) coldStarts(ctx context.Context, rie, path string, fn catalog.Function, env []string, bs *Bootstrap) {
	var colds, inits, walls []float64
	for i := 0; i < b.opts.coldRuns && ctx.Err() == nil; i++ {
		r, err := b.coldStart(ctx, rie, path, fn, env)
		if err != nil {
			bs.Note = "cold start failed: " + truncate(err.Error(), 200)
			return
		}
		if !answered(r.status) {
			// A start that did not answer is a failure, not a fast cold start.
			bs.Note = "cold start failed: first answer " + r.status + "; " + truncate(functionLines(r.logs), 300)
			return
		}
		colds, inits, walls = append(colds, r.coldMS), append(inits, r.initMS), append(walls, r.wallMS)
		bs.Status = r.status
		if r.rssKB > bs.PeakRSSKB {
			bs.PeakRSSKB = r.rssKB
		}
	}
	bs.ColdStarts = len(colds)
	if len(colds) == 0 {
		return
	}
	bs.ColdMS, bs.InitMS, bs.WallMS = median(colds), median(inits), median(walls)
	sort.Float64s(colds)
	bs.ColdMaxMS = colds[len(colds)-1]
	b.logf("  %-24s cold %6.1f ms (init %5.1f, max %6.1f)  %s", fn.Name, bs.ColdMS, bs.InitMS, bs.ColdMaxMS, bs.Status)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return round((s[len(s)/2-1]+s[len(s)/2])/2, 3)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// functionLines keeps what the function printed (not the emulator's own
// lines), to say why a start failed.
func functionLines(logs string) string {
	var keep []string
	for _, l := range strings.Split(logs, "\n") {
		if l != "" && !strings.Contains(l, "(rapid)") && !strings.HasPrefix(l, "START") && !strings.HasPrefix(l, "END") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, " | ")
}
