"use client";

import { createContext, type ReactNode, use, useEffect, useState } from "react";
import { Provider } from "urql";
import { type ConnectionState, createDashboardClient } from "@/lib/graphql-client";
import type { Viewer } from "@/lib/types";

interface Session {
  viewer: Viewer;
  canEdit: boolean;
  connection: ConnectionState;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = use(SessionContext);
  if (!session) throw new Error("useSession is called outside <Providers>; wrap the page in it.");
  return session;
}

export function Providers(props: { webSocketUrl: string; viewer: Viewer; children: ReactNode }) {
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [dashboard, setDashboard] = useState<ReturnType<typeof createDashboardClient> | null>(null);

  // The client needs window (page host name, WebSocket), so it is made after hydration and the
  // server renders only the page frame.
  useEffect(() => {
    const created = createDashboardClient(props.webSocketUrl, setConnection);
    setDashboard(created);
    return () => void created.socket.dispose();
  }, [props.webSocketUrl]);

  const session: Session = {
    viewer: props.viewer,
    canEdit: props.viewer.role === "editor",
    connection,
  };
  if (!dashboard) return <p className="muted">Loading…</p>;
  return (
    <SessionContext value={session}>
      <Provider value={dashboard.client}>{props.children}</Provider>
    </SessionContext>
  );
}
