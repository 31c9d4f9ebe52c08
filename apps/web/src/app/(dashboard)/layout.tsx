import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Nav } from "@/components/nav";
import { Providers } from "@/components/providers";
import { apiWebSocketUrl, fetchViewer, readToken } from "@/lib/server/api";

/** Renders the dashboard frame for a valid token, and redirects to the sign-in form without one. */
export default async function DashboardLayout(props: { children: ReactNode }) {
  const token = await readToken();
  if (!token) redirect("/sign-in");

  const result = await fetchViewer(token);
  if (!result.ok && result.reason === "unauthenticated") redirect("/sign-in?expired=1");
  if (!result.ok) {
    return (
      <main className="page">
        <div className="state state-error" role="alert">
          <h1>The API is unreachable</h1>
          <p>{result.message}</p>
        </div>
      </main>
    );
  }

  return (
    <Providers webSocketUrl={apiWebSocketUrl()} viewer={result.viewer}>
      <Nav />
      <main className="page">{props.children}</main>
    </Providers>
  );
}
