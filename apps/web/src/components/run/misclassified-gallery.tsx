"use client";

import { useState } from "react";
import type { Misclassified } from "@/lib/types";

/** Digits rendered at first; the rest wait behind a button, since a weak run can misclassify thousands. */
const INITIAL_COUNT = 48;

/** The API serves test images of MNIST only; other data sets show labels alone. */
const SERVED_DATASET = "mnist";

export function MisclassifiedGallery(props: { items: Misclassified[]; dataset: string }) {
  const [limit, setLimit] = useState(INITIAL_COUNT);
  const [imagesFailed, setImagesFailed] = useState(false);
  const imagesMissing = imagesFailed || props.dataset !== SERVED_DATASET;
  const visibleItems = props.items.slice(0, limit);

  return (
    <>
      {imagesMissing ? (
        <p className="muted">
          {props.dataset === SERVED_DATASET
            ? "Test images are not served by this API, so only the labels show."
            : `The API serves ${SERVED_DATASET} test images only, so this ${props.dataset} run shows labels alone.`}
        </p>
      ) : null}
      <div className="gallery" data-testid="misclassified">
        {visibleItems.map((item) => (
          <figure key={item.index}>
            {imagesMissing ? (
              <span className="digit-placeholder">{item.label}</span>
            ) : (
              // biome-ignore lint/performance/noImgElement: 28x28 test digits streamed from the API need no optimisation.
              <img
                src={`/api/files/mnist/test/${item.index}.png`}
                alt={`Test digit ${item.index}, true ${item.label}`}
                width={56}
                height={56}
                loading="lazy"
                onError={() => setImagesFailed(true)}
              />
            )}
            <figcaption>
              true <strong>{item.label}</strong> → <span className="bad">{item.predicted}</span>
              <br />
              <span className="muted">#{item.index}</span>
            </figcaption>
          </figure>
        ))}
      </div>
      {props.items.length > limit ? (
        <button
          type="button"
          onClick={() => setLimit((current) => current + 96)}
          style={{ marginTop: "0.5rem" }}
        >
          Show more ({props.items.length - limit} left)
        </button>
      ) : null}
    </>
  );
}
