// Shared timing loop of the TypeScript benches: the same protocol as
// bench/bench.hpp (one JSON line per measurement; see bench/README.md).
// `body` may return a promise; it is awaited, as a caller of the official
// API would have to.

export function minSeconds() {
  const v = Number(process.env.ATPROTO_BENCH_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 1.0;
}

// ATPROTO_BENCH_ONLY=<prefix>: only the measurements whose id starts with it.
export function selected(id) {
  const only = process.env.ATPROTO_BENCH_ONLY;
  return !only || id.startsWith(only);
}

// Runs body() repeatedly for at least minSeconds() and prints the line.
export async function measure({ id, what, bytes = 0 }, check, body) {
  if (!selected(id)) return;
  const budget = minSeconds();
  // Warm-up, so the JIT has compiled the path before the clock starts.
  const warmEnd = performance.now() + Math.min(200, budget * 200);
  while (performance.now() < warmEnd) await body();
  let ops = 0;
  let batch = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) await body();
    ops += batch;
    elapsed = (performance.now() - start) / 1000;
    if (elapsed < budget / 10) batch *= 2;
  }
  print({ id, what, ops, seconds: elapsed, bytes, check });
}

// A job measured once (ops = 1), with extra fields such as peak memory.
export function reportOnce({ id, what, bytes = 0 }, check, seconds, extra = {}) {
  print({ id, what, ops: 1, seconds, bytes, check, ...extra });
}

function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}
