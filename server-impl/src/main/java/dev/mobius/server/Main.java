package dev.mobius.server;

import dev.mobius.server.secrets.MasterKeyRotation;
import dev.mobius.server.users.AddUserCommand;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** Starts the server with configuration from flags and environment; stops it cleanly on SIGTERM. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        Logger log = LoggerFactory.getLogger(Main.class);
        boolean rotate = args.length > 0 && args[0].equals("rotate-master-key");
        if (args.length > 0 && args[0].equals("set-password")) {
            System.exit(setPassword(Arrays.asList(args).subList(1, args.length)));
            return;
        }
        if (args.length > 0 && args[0].equals("add-user")) {
            System.exit(addUser(Arrays.asList(args).subList(1, args.length)));
            return;
        }
        ServerConfig config;
        ConfigFile.Layered layered;
        try {
            layered = ConfigFile.layer(rotate ? Arrays.copyOfRange(args, 1, args.length) : args, System.getenv());
            config = ServerConfig.from(layered.args(), layered.env());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        if (rotate) {
            System.exit(rotateMasterKey(config));
            return;
        }
        dev.mobius.server.logging.LogSetup.useFormat(layered.env().get("MOBIUS_LOG_FORMAT"));
        MobiusServer server = MobiusServer.start(config, layered.env());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            log.info("shutting down");
                            server.close();
                            stopped.countDown();
                        },
                        "shutdown"));
        stopped.await();
    }

    /** Adds a person (or a token of one) and prints the token once; server options come from the environment. */
    private static int addUser(java.util.List<String> args) {
        try {
            AddUserCommand.Request request = AddUserCommand.parse(args);
            ServerConfig config = ServerConfig.from(
                    new String[0],
                    ConfigFile.layer(new String[0], System.getenv()).env());
            String token = AddUserCommand.run(config.databaseUrl(), config.dataDir(), request);
            System.out.println("Mogplex API token of the user " + request.username() + " (shown this once):");
            System.out.println("  " + token);
            return 0;
        } catch (Exception e) {
            System.err.println("add-user failed: " + e.getMessage());
            return 1;
        }
    }

    /** Sets a user's password for the local login, read from stdin; server options come from the environment. */
    private static int setPassword(java.util.List<String> args) {
        if (args.size() != 1 || args.get(0).startsWith("--")) {
            System.err.println("usage: mobius-server set-password <username>   (the password is read from stdin)");
            return 2;
        }
        try {
            ServerConfig config = ServerConfig.from(
                    new String[0],
                    ConfigFile.layer(new String[0], System.getenv()).env());
            dev.mobius.server.control.sessions.SetPasswordCommand.run(
                    config.databaseUrl(),
                    config.dataDir(),
                    args.get(0),
                    new java.io.BufferedReader(
                            new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8)));
            System.out.println("password of the user " + args.get(0) + " set");
            return 0;
        } catch (Exception e) {
            System.err.println("set-password failed: " + e.getMessage());
            return 1;
        }
    }

    /** Re-wraps every data key under the configured master key; the servers keep running meanwhile. */
    private static int rotateMasterKey(ServerConfig config) {
        try {
            MasterKeyRotation.Result result =
                    MasterKeyRotation.run(config.databaseUrl(), config.dataDir(), config.masterKey());
            System.out.println("re-wrapped " + result.rewrapped() + " data keys; every secret is now under master key "
                    + result.masterKeyId());
            return 0;
        } catch (Exception e) {
            System.err.println("rotate-master-key failed: " + e.getMessage());
            return 1;
        }
    }
}
