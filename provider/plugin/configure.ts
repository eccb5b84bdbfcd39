import * as path from "path";
import type * as grpc from "@grpc/grpc-js";
import type * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { connectionFrom, ProviderConfig } from "./config";

type ConfigureCall = grpc.ServerUnaryCall<provproto.ConfigureRequest, provproto.ConfigureResponse>;
type Handler = (call: ConfigureCall, callback: grpc.sendUnaryData<provproto.ConfigureResponse>) => void;

/**
 * The Node SDK's provider server (`@pulumi/pulumi/provider`'s `main`) answers Configure without passing its arguments
 * on, so an explicit provider's connection (`new lvm.Provider("p", { connection })`, in any language) would never
 * reach its resources. We serve Configure ourselves: when `main` registers its ResourceProvider service on the gRPC
 * server, its Configure handler is wrapped so that it first takes the connection from the request (the provider's
 * inputs in `args`, or the older `variables` map keyed `lvm:config:connection`), then answers as the SDK does.
 * `reveal` unwraps secrets as the rest of the plugin does. A connection from Configure wins over PULUMI_CONFIG's.
 */
export function serveConfigure(config: ProviderConfig, reveal: (v: unknown) => unknown): void {
  // The gRPC module and service definition the SDK's server itself uses (resolved from its folder, not ours).
  const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const grpcModule = require(require.resolve("@grpc/grpc-js", { paths: [sdk] })) as typeof grpc;
  const service = (require(require.resolve("@pulumi/pulumi/proto/provider_grpc_pb", { paths: [sdk] })) as
    { ResourceProviderService: grpc.ServiceDefinition }).ResourceProviderService;

  const addService = grpcModule.Server.prototype.addService;
  grpcModule.Server.prototype.addService = function (this: grpc.Server, definition, implementation) {
    if (definition === service) {
      // The server's handlers are methods of its class: shadow Configure on the instance, keep the rest.
      const handlers = implementation as Record<string, Handler>;
      const answer = handlers.configure.bind(implementation);
      handlers.configure = (call, callback) => {
        try {
          const connection = configuredConnection(call.request, reveal);
          if (connection !== undefined) config.connection = connection;
        } catch (e) {
          callback(e as Error, null);
          return;
        }
        answer(call, callback);
      };
    }
    return addService.call(this, definition, implementation);
  };
}

/** The connection a Configure request carries, if any, as plain values. */
export function configuredConnection(request: provproto.ConfigureRequest, reveal: (v: unknown) => unknown): unknown {
  const args = request.getArgs()?.toJavaScript() as Record<string, unknown> | undefined;
  const raw = args?.connection ?? request.getVariablesMap().get("lvm:config:connection");
  return connectionFrom(reveal(raw));
}
