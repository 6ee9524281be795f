/**
 * One HTTP POST of a JSON body with a deadline. The outcome says whether to retry and when:
 * 2xx delivered; 429 and 5xx and network errors retry (honouring Retry-After); other 4xx are
 * permanent (a bad URL or payload will not get better by retrying).
 */
export type PostOutcome =
  | { type: "delivered"; status: number }
  | { type: "retry"; reason: string; retryAfterMs?: number }
  | { type: "permanent"; reason: string };

/**
 * `headersFor` adds headers, computed from the exact body sent when they sign it (signature.ts);
 * `stop` aborts the request when the alerter stops, so that a hanging endpoint cannot hold it up.
 */
export async function postJson(
  url: string,
  body: unknown,
  options: {
    timeoutMs: number;
    stop?: AbortSignal | undefined;
    headersFor?: (text: string) => Record<string, string>;
  },
): Promise<PostOutcome> {
  const { timeoutMs, stop, headersFor } = options;
  const text = JSON.stringify(body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "postwatch", ...headersFor?.(text) },
      body: text,
      signal: stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      type: "retry",
      reason: (error as Error).name === "TimeoutError" ? "timeout" : (cause ?? "network_error"),
    };
  }
  // Drain the body so the connection can be reused; its text is never logged (it may echo the URL).
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return { type: "delivered", status: response.status };
  if (response.status === 429 || response.status >= 500) {
    return {
      type: "retry",
      reason: `http_${response.status}`,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    };
  }
  return { type: "permanent", reason: `http_${response.status}` };
}

function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
