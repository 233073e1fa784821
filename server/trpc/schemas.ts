import { z } from "zod";

/** Every list: keyset cursor (opaque to clients) and at most 100 items. */
export const pageInput = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

export const emailSchema = z.email("Enter a valid email address.").max(320);
