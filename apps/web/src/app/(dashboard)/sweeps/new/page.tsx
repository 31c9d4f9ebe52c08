import type { Metadata } from "next";
import { LaunchForm } from "@/components/sweeps/launch-form";

export const metadata: Metadata = { title: "Launch a sweep" };

export default function NewSweepPage() {
  return (
    <>
      <h1>Launch a sweep</h1>
      <p className="muted">
        Pick a preset, say which hyperparameters to search, and how many runs to train at once.
      </p>
      <LaunchForm />
    </>
  );
}
