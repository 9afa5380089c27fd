/** Generated image catalogs for the benchmarks, made like the simulators make theirs, with seeds so runs repeat. */
import type { Provider } from "../packages/core/resources";
import { TritonImageSchema } from "../packages/providers/triton/schemas";
import { environmentStack, generateCatalog } from "../packages/simulators/coxedge/catalog";
import { SeededRandom } from "../packages/simulators/kit";
import { generateImage } from "../packages/simulators/triton/catalog";
import { translate } from "../packages/simulators/triton/model";
import type { UpstreamDocument } from "../packages/store/normalise";

export interface GeneratedSource {
  provider: Provider;
  sourceId: string;
  documents: UpstreamDocument[];
}

/** `count` images of one source, as its upstream lists them; `seed` makes each source's catalog its own. */
export function generatedSource(provider: Provider, sourceId: string, count: number, seed: number): GeneratedSource {
  if (provider === "coxedge") {
    const images = generateCatalog({ images: count, seed }, environmentStack("bench"));
    return { provider, sourceId, documents: images.map((image) => ({ provider, image })) };
  }
  const random = new SeededRandom(seed);
  const context = { random, accountUuid: random.uuid(), adminUuid: random.uuid(), otherOwners: [random.uuid(), random.uuid()], startIndex: 0, origins: [] };
  const documents = Array.from({ length: count }, (_, i): UpstreamDocument => ({
    provider,
    image: TritonImageSchema.parse(translate(generateImage(context, i), [9, 0])),
  }));
  return { provider, sourceId, documents };
}
