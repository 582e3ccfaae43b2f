// The Vercel AI SDK (ai, @ai-sdk/openai, @ai-sdk/anthropic), unmodified, against the gateway:
// see tests/compat/test_node.py. @ai-sdk/openai's default model is the Responses API; .chat(),
// .completion() and .embedding() pick the other endpoints.
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { embedMany, generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";
import { check, env, run } from "./harness.mjs";

const openai = createOpenAI({ baseURL: `${env.url}/v1`, apiKey: env.key });
const anthropic = createAnthropic({ baseURL: `${env.url}/v1`, apiKey: env.key });
const tools = {
  get_weather: tool({
    description: "The weather in a city.",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `4C in ${city}`,
  }),
};
const City = z.object({ name: z.string(), population: z.number().int() });
const models = {
  responses: openai("gpt-4o-mini"),
  chat: openai.chat("gpt-4o-mini"),
  anthropic: anthropic("claude-haiku"),
};

const cases = {};
for (const [label, model] of Object.entries(models)) {
  cases[`${label}_text`] = async () => {
    const r = await generateText({ model, prompt: "Hello", maxRetries: 0 });
    check(r.text.includes("Hello") && r.usage.inputTokens > 0, `text: ${r.text}`);
  };
  cases[`${label}_stream`] = async () => {
    const r = streamText({ model, prompt: "Stream this", maxRetries: 0 });
    let text = "";
    for await (const part of r.textStream) text += part;
    check(text.includes("Stream this") && (await r.finishReason) === "stop", `stream: ${text}`);
  };
  cases[`${label}_tools_two_steps`] = async () => {
    const r = await generateText({ model, tools, prompt: "What is the weather in Oslo?", stopWhen: stepCountIs(3), maxRetries: 0 });
    check(r.steps.length === 2 && r.steps[0].toolCalls[0].toolName === "get_weather", `steps: ${r.steps.length}`);
    check(r.text.includes("4C in"), `final text: ${r.text}`);
  };
  cases[`${label}_object`] = async () => {
    const r = await generateObject({ model, schema: City, prompt: "Oslo", maxRetries: 0 });
    check(typeof r.object.name === "string", "object");
  };
}
cases.openai_completion = async () => {
  const r = await generateText({ model: openai.completion("gpt-4o-mini"), prompt: "Say hi", maxRetries: 0 });
  check(r.text.includes("Say hi"), `text: ${r.text}`);
};
cases.openai_embeddings = async () => {
  const r = await embedMany({ model: openai.embedding("text-embedding-3-small"), values: ["one", "two"], maxRetries: 0 });
  check(r.embeddings.length === 2 && r.embeddings[0].length > 8, "two vectors");
};

await run(cases);
