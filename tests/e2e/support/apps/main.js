// The app as a bundler sees it: the package imported by name.
import { io } from "resocket";
import { check } from "./check.js";

check(io);
