"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

export function SignInForm() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const token = String(new FormData(event.currentTarget).get("token") ?? "");
    setPending(true);
    setError(null);

    const response = await fetch("/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    }).catch(() => null);
    setPending(false);

    if (!response) {
      setError("The dashboard server is unreachable. Check that it runs and try again.");
      return;
    }
    if (!response.ok) {
      const body: { error?: string } = await response.json().catch(() => ({}));
      setError(body.error ?? `Sign-in failed with HTTP ${response.status}.`);
      return;
    }
    router.replace("/");
    router.refresh();
  }

  return (
    <form onSubmit={submit} className="card form">
      <label>
        API token
        <input
          name="token"
          type="password"
          autoComplete="off"
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "token-error" : undefined}
        />
      </label>
      {error ? (
        <p id="token-error" className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={pending}>
        {pending ? "Checking…" : "Sign in"}
      </button>
    </form>
  );
}
