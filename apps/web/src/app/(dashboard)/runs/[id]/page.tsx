import type { Metadata } from "next";
import { RunView } from "@/components/run/run-view";

export const metadata: Metadata = { title: "Run" };

export default async function RunPage(props: { params: Promise<{ id: string }> }) {
  const { id } = await props.params;
  return <RunView id={id} />;
}
