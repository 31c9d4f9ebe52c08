"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useSession } from "./providers";

const LINKS = [
  { href: "/", label: "Runs" },
  { href: "/compare", label: "Compare" },
  { href: "/sweeps", label: "Sweeps" },
  { href: "/models", label: "Models" },
];

const CONNECTION_LABELS = {
  connecting: "Connecting…",
  connected: "Live",
  closed: "Offline, retrying",
} as const;

export function Nav() {
  const pathname = usePathname();
  const router = useRouter();
  const session = useSession();

  async function signOut() {
    await fetch("/api/session", { method: "DELETE" });
    router.replace("/sign-in");
    router.refresh();
  }

  return (
    <header className="nav">
      <Link href="/" className="brand">
        ConvNet Lab
      </Link>
      <nav aria-label="Main">
        {LINKS.map((link) => {
          const active =
            link.href === "/"
              ? pathname === "/" || pathname.startsWith("/runs")
              : pathname.startsWith(link.href);
          return (
            <Link key={link.href} href={link.href} aria-current={active ? "page" : undefined}>
              {link.label}
            </Link>
          );
        })}
      </nav>
      <div className="nav-end">
        <span
          className={`connection connection-${session.connection}`}
          title="Subscription connection to the API"
          data-testid="connection"
        >
          {CONNECTION_LABELS[session.connection]}
        </span>
        <span className="viewer" title={`Signed in as ${session.viewer.label}`}>
          {session.viewer.label} <small>({session.viewer.role})</small>
        </span>
        <button type="button" className="link-button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
