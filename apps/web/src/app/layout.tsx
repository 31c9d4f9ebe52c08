import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "ConvNet Lab", template: "%s · ConvNet Lab" },
  description: "Train, track, compare and serve convolutional networks on MNIST.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout(props: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{props.children}</body>
    </html>
  );
}
