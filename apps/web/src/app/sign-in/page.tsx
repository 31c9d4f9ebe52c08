import type { Metadata } from "next";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage(props: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const query = await props.searchParams;
  return (
    <main className="sign-in">
      <h1>ConvNet Lab</h1>
      <p className="muted">
        Sign in with an API token. Create one with{" "}
        <code>npm run token -- create --role editor --label you</code>.
      </p>
      {query.expired ? (
        <p className="state state-error">That token is no longer valid. Paste another one.</p>
      ) : null}
      <SignInForm />
    </main>
  );
}
