/**
 * The few instances the simulator knows, for CreateImageFromMachine and for what node-triton calls when
 * `triton image create` is given an instance name: ListMachines `?name=` (with limit/offset paging and
 * `x-resource-count`) and GetMachine (TritonDataCenter/node-triton lib/tritonapi.js getInstance,
 * lib/cloudapi2.js createListMachinesStream).
 */
import { notFound } from "./errors";

export interface SimMachine {
  id: string;
  /** Instance name; default `inst-<first uuid segment>`. */
  name: string;
  owner: string;
  state: "running" | "stopped";
  /** The image the instance was provisioned from; becomes the new image's origin. */
  image?: string;
  brand?: string;
  docker: boolean;
  created: string;
}

export interface MachineListQuery {
  name?: string;
  limit: number;
  offset: number;
}

export class MachineDirectory {
  private readonly machines = new Map<string, SimMachine>();

  add(machine: SimMachine): SimMachine {
    this.machines.set(machine.id, machine);
    return machine;
  }

  /** Any machine by id, whoever owns it (CreateImageFromMachine checks ownership itself). */
  get(id: string): SimMachine | undefined {
    return this.machines.get(id);
  }

  getOwned(owner: string, id: string): SimMachine {
    const machine = this.machines.get(id);
    if (!machine || machine.owner !== owner) throw notFound(`VM ${id} not found`);
    return machine;
  }

  /** The owner's machines matching the query, and how many match before paging. */
  list(owner: string, query: MachineListQuery): { total: number; page: SimMachine[] } {
    const matching = [...this.machines.values()]
      .filter((machine) => machine.owner === owner && (query.name === undefined || machine.name === query.name))
      .toSorted((a, b) => a.created.localeCompare(b.created));
    return { total: matching.length, page: matching.slice(query.offset, query.offset + query.limit) };
  }
}

/** The machine as CloudAPI's GetMachine shows it (the fields image tooling reads). */
export function machineView(machine: SimMachine): Record<string, unknown> {
  return {
    id: machine.id,
    name: machine.name,
    type: machine.brand === "bhyve" || machine.brand === "kvm" ? "virtualmachine" : "smartmachine",
    brand: machine.brand ?? "joyent",
    state: machine.state,
    image: machine.image,
    ips: [],
    memory: 1024,
    disk: 25_600,
    metadata: {},
    tags: {},
    created: machine.created,
    updated: machine.created,
    docker: machine.docker,
    firewall_enabled: false,
    compute_node: "44454c4c-5400-1034-8053-b5c04f383432",
    package: "sample-1G",
  };
}
