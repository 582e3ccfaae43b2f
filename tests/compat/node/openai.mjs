// openai-node, unmodified, against the gateway: see tests/compat/test_node.py.
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { check, env, run, WEATHER_SCHEMA } from "./harness.mjs";

const client = new OpenAI({ baseURL: `${env.url}/v1`, apiKey: env.key, maxRetries: 0, timeout: 20000 });
const tools = ["get_weather", "get_time"].map((name) => ({
  type: "function",
  function: { name, description: `The ${name.slice(4)} in a city.`, parameters: WEATHER_SCHEMA },
}));

await run({
  async chat() {
    const c = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] });
    check(c.choices[0].message.content.includes("Hello"), "content echoes the prompt");
    check(c.choices[0].finish_reason === "stop" && c.usage.total_tokens > 0, "finish_reason and usage");
  },
  async stream() {
    const stream = await client.chat.completions.create({
      model: "gpt-4o", messages: [{ role: "user", content: "Stream this" }], stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      usage = chunk.usage ?? usage;
    }
    check(text.includes("Stream this") && usage?.completion_tokens > 0, "text and usage");
  },
  async tools_two_turns() {
    const messages = [{ role: "user", content: "What is the weather in Oslo?" }];
    const first = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    const [call] = first.choices[0].message.tool_calls;
    check(call.function.name === "get_weather", "calls get_weather");
    messages.push(first.choices[0].message); // the SDK's own object, as its docs show
    messages.push({ role: "tool", tool_call_id: call.id, content: "4C and rain" });
    const second = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    check(second.choices[0].message.content.includes("4C and rain"), "answers from the tool result");
  },
  async parallel_tool_calls() {
    const c = await client.chat.completions.create({
      model: "gpt-4o-mini", tools, messages: [{ role: "user", content: "Use get_weather and get_time for Oslo." }],
    });
    const names = c.choices[0].message.tool_calls.map((t) => t.function.name);
    check(JSON.stringify(names) === '["get_weather","get_time"]', `two calls, got ${names}`);
  },
  async structured_output() {
    const City = z.object({ name: z.string(), population: z.number().int() });
    const c = await client.chat.completions.parse({
      model: "gpt-4o-mini", messages: [{ role: "user", content: "Oslo" }], response_format: zodResponseFormat(City, "city"),
    });
    check(typeof c.choices[0].message.parsed.name === "string", "parsed object");
  },
  async logprobs() {
    const ask = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], logprobs: true, top_logprobs: 2 };
    if (env.backend === "anthropic") {
      try {
        await client.chat.completions.create(ask);
      } catch (err) {
        check(err.status === 400 && err.param === "logprobs", "refused naming logprobs");
        return "refused";
      }
      throw new Error("logprobs accepted by an anthropic deployment");
    }
    const c = await client.chat.completions.create(ask);
    const tokens = c.choices[0].logprobs.content;
    check(tokens.map((t) => t.token).join("") === c.choices[0].message.content, "tokens rebuild the content");
    check(tokens.every((t) => t.top_logprobs.length === 2), "top_logprobs");
  },
  async embeddings() {
    const e = await client.embeddings.create({ model: "text-embedding-3-small", input: ["one", "two"] });
    check(e.data.length === 2 && e.data[0].embedding.length > 8, "two vectors");
  },
  async responses() {
    const first = await client.responses.create({ model: "gpt-4o-mini", input: "Hello" });
    check(first.output_text.includes("Hello"), "output_text");
    const events = [];
    for await (const event of await client.responses.create({ model: "gpt-4o-mini", input: "Stream me", stream: true })) {
      events.push(event);
    }
    check(events.at(-1).type === "response.completed", "stream completes");
    check(events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("").includes("Stream me"), "deltas");
    const follow = await client.responses.create({ model: "gpt-4o-mini", input: "And again", previous_response_id: first.id });
    check(follow.output_text.includes("And again"), "follow-up");
    const got = await client.responses.retrieve(first.id);
    check(got.id === first.id, "retrieve");
  },
  async completions() {
    const c = await client.completions.create({ model: "gpt-4o-mini", prompt: "Say hi", max_tokens: 20 });
    check(c.choices[0].text.includes("Say hi"), "text");
  },
  async models() {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    check(ids.includes("gpt-4o-mini") && ids.includes("text-embedding-3-small"), `models: ${ids}`);
  },
});
