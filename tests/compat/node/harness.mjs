// Runs named cases in order and prints one JSON line per case: {"case", "ok", "detail"}.
// A failed check or a thrown error is a case that is not ok; the process always exits 0 so the
// Python test (tests/compat/test_node.py) reports every case, not the first failure.
export const env = {
  url: process.env.SLUICE_URL,
  key: process.env.SLUICE_KEY,
  backend: process.env.SLUICE_BACKEND,
};

export function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

export async function run(cases) {
  for (const [name, fn] of Object.entries(cases)) {
    try {
      const detail = await fn();
      console.log(JSON.stringify({ case: name, ok: true, detail: detail ?? null }));
    } catch (err) {
      const detail = `${err?.name ?? "Error"}: ${err?.message ?? err}`.slice(0, 2000);
      console.log(JSON.stringify({ case: name, ok: false, detail, status: err?.status ?? null }));
    }
  }
}

export const WEATHER_SCHEMA = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
};
