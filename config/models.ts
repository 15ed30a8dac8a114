import { z } from 'zod';

/** Where ONNX models live (each with its manifest and model card); relative to the config file. */
export const DEFAULT_MODELS_DIR = './models';

/** The model registry's source. */
export const modelsSchema = z.strictObject({
  dir: z.string().min(1).default(DEFAULT_MODELS_DIR),
});

export type ModelsConfig = z.output<typeof modelsSchema>;
