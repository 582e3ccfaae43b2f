// @anthropic-ai/sdk, unmodified, against the gateway's /v1/messages: see tests/compat/test_node.py.
import Anthropic from "@anthropic-ai/sdk";
import { check, env, run, WEATHER_SCHEMA } from "./harness.mjs";

const client = new Anthropic({ baseURL: env.url, apiKey: env.key, maxRetries: 0, timeout: 20000 });
const tools = ["get_weather", "get_time"].map((name) => ({
  name, description: `The ${name.slice(4)} in a city.`, input_schema: WEATHER_SCHEMA,
}));
const base = { model: "claude-haiku", max_tokens: 200 };

await run({
  async message() {
    const m = await client.messages.create({ ...base, messages: [{ role: "user", content: "Hello" }] });
    check(m.content[0].text.includes("Hello") && m.stop_reason === "end_turn", "text and stop_reason");
    check(m.usage.input_tokens > 0 && m.usage.output_tokens > 0, "usage");
  },
  async stream() {
    const stream = client.messages.stream({ ...base, messages: [{ role: "user", content: "Stream this" }] });
    let text = "";
    stream.on("text", (t) => { text += t; });
    const final = await stream.finalMessage();
    check(text.includes("Stream this") && final.content[0].text === text, "text events and final message");
  },
  async tools_two_turns() {
    const messages = [{ role: "user", content: "What is the weather in Oslo?" }];
    const first = await client.messages.create({ ...base, messages, tools });
    const use = first.content.find((b) => b.type === "tool_use");
    check(first.stop_reason === "tool_use" && use.name === "get_weather", "tool_use");
    messages.push({ role: "assistant", content: first.content }); // the SDK's own blocks
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "4C" }] });
    const second = await client.messages.create({ ...base, messages, tools });
    check(second.content[0].text.includes("4C"), "answers from the tool result");
  },
  async parallel_tool_use() {
    const m = await client.messages.create({
      ...base, tools, messages: [{ role: "user", content: "Use get_weather and get_time for Oslo." }],
    });
    const names = m.content.filter((b) => b.type === "tool_use").map((b) => b.name);
    check(JSON.stringify(names) === '["get_weather","get_time"]', `two tool_use blocks, got ${names}`);
  },
  async structured_output() {
    const schema = {
      type: "object", properties: { name: { type: "string" }, population: { type: "integer" } },
      required: ["name", "population"], additionalProperties: false,
    };
    const m = await client.messages.create({
      ...base, messages: [{ role: "user", content: "Oslo" }], output_config: { format: { type: "json_schema", schema } },
    });
    const data = JSON.parse(m.content[0].text);
    check(typeof data.name === "string" && Number.isInteger(data.population), "object matching the schema");
  },
  async count_tokens() {
    const n = await client.messages.countTokens({ model: "claude-haiku", messages: [{ role: "user", content: "Count these" }], tools });
    check(n.input_tokens > 0, "input_tokens");
  },
});
